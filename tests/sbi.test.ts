// The host's SBI (assembly/sbi.ts), the PLIC and host-device windows, driven by small S-mode
// programs started the way firmware starts a kernel (Core.bootSupervisor).
import { describe, it, expect } from 'vitest';
import { Core, Exit } from '../src/core.js';
import { Program, R } from './helpers/program.js';
import { CSRS as CSR } from '../src/isa/opcodes.js';

const ENTRY = 0x8020_0000n;
const UART = 0x1000_0000n;
const PLIC = 0x0c00_0000n;
const VIRTIO0 = 0x1000_1000n;
const EXT = { BASE: 0x10, TIME: 0x54494d45, IPI: 0x735049, HSM: 0x48534d, SRST: 0x53525354, DBCN: 0x4442434e, PMU: 0x504d55 };
const SBI_ERR_NOT_SUPPORTED = BigInt.asUintN(64, -2n);
const SBI_ERR_INVALID_PARAM = BigInt.asUintN(64, -3n);
const SBI_ERR_ALREADY_AVAILABLE = BigInt.asUintN(64, -6n);

class SProgram extends Program {
  constructor() {
    super(ENTRY);
  }
  /** a7 = eid, a6 = fid, a0.. = args; ecall. */
  sbi(eid: number, fid: number, ...args: (bigint | number)[]): this {
    args.forEach((v, i) => this.li(R.a0 + i, v));
    return this.li(R.a7, eid).li(R.a6, fid).i('ecall');
  }
  /** Move a0/a1 into s-registers to look at after the run. */
  keep(a0: number, a1?: number): this {
    this.i('addi', { rd: a0, rs1: R.a0, imm: 0 });
    if (a1 !== undefined) this.i('addi', { rd: a1, rs1: R.a1, imm: 0 });
    return this;
  }
  shutdown(reason = 0): this {
    return this.sbi(EXT.SRST, 0, 0, reason);
  }
}

async function boot(p: Program, dtb = 0n): Promise<Core> {
  const core = await Core.create(16n << 20n);
  core.writeRam(ENTRY, p.assemble());
  core.bootSupervisor(ENTRY, dtb);
  return core;
}

/** Run to the first exit other than console/MMIO (those are drained/collected). */
function runToStop(core: Core, out: number[] = []): Exit {
  for (;;) {
    const e = core.run(1_000_000);
    out.push(...core.drainConsole());
    if (e !== Exit.Console && e !== Exit.Mmio) return e;
  }
}

describe('host SBI: the state firmware hands over', () => {
  it('starts in S-mode with a0 = hartid 0, a1 = dtb, exceptions delegated, PMP open', async () => {
    const p = new SProgram().keep(R.s2, R.s3);
    for (let i = 0; i < 30; i++) p.i('addi', { rd: 0, rs1: 0, imm: 0 });
    p.i('csrrs', { rd: R.s4, rs1: 0, csr: CSR.time }).shutdown();
    const core = await boot(p, 0x8100_0000n);
    expect(runToStop(core)).toBe(Exit.Poweroff);
    expect(core.exitValue).toBe(0);
    expect(core.x(R.s2)).toBe(0n);
    expect(core.x(R.s3)).toBe(0x8100_0000n);
    // the time CSR is readable from S (mcounteren.TM): 32 instructions at 10 per tick
    expect(core.x(R.s4)).toBe(3n);
    expect(core.csr(CSR.medeleg) & (1n << 2n)).not.toBe(0n); // illegal instruction -> S
    expect(core.csr(CSR.medeleg) & (1n << 9n)).toBe(0n); // ecall from S is the SBI's
    expect(core.stats().sbiCalls).toBe(1n);
  });

  it('an illegal instruction goes to stvec, not M-mode', async () => {
    const p = new SProgram();
    p.la(R.t0, 'handler').i('csrrw', { rd: 0, rs1: R.t0, csr: CSR.stvec }).bytes(new Uint8Array(4)); // 0x00000000: illegal
    p.label('handler').i('csrrs', { rd: R.s2, rs1: 0, csr: CSR.scause }).shutdown();
    const core = await boot(p);
    expect(runToStop(core)).toBe(Exit.Poweroff);
    expect(core.x(R.s2)).toBe(2n);
  });
});

describe('host SBI: extensions', () => {
  it('BASE: spec version 2.0, implementation id, probe', async () => {
    const p = new SProgram()
      .sbi(EXT.BASE, 0).keep(R.s2, R.s3)
      .sbi(EXT.BASE, 3, EXT.TIME).keep(R.s4, R.s5)
      .sbi(EXT.BASE, 3, EXT.PMU).keep(R.s6, R.s7)
      .sbi(0x1234567, 0).keep(R.s8)
      .sbi(EXT.BASE, 1).keep(R.s9, R.s10)
      .shutdown();
    const core = await boot(p);
    expect(runToStop(core)).toBe(Exit.Poweroff);
    expect([core.x(R.s2), core.x(R.s3)]).toEqual([0n, 2n << 24n]);
    expect([core.x(R.s4), core.x(R.s5)]).toEqual([0n, 1n]);
    expect([core.x(R.s6), core.x(R.s7)]).toEqual([0n, 0n]);
    expect(core.x(R.s8)).toBe(SBI_ERR_NOT_SUPPORTED);
    expect(core.x(R.s9)).toBe(0n);
    expect(core.x(R.s10)).toBe(0x7776n);
  });

  it('DBCN writes a buffer from physical memory; a buffer outside RAM is INVALID_PARAM', async () => {
    const p = new SProgram();
    p.li(R.a0, 5).la(R.a1, 'msg').li(R.a2, 0).li(R.a7, EXT.DBCN).li(R.a6, 0).i('ecall').keep(R.s2, R.s3);
    p.sbi(EXT.DBCN, 0, 4, 0x1000, 0).keep(R.s4);
    p.sbi(EXT.DBCN, 2, 0x21).sbi(1, 0, 0x0a); // write_byte '!' and legacy putchar '\n'
    p.shutdown().label('msg').bytes(new TextEncoder().encode('hello'));
    const core = await boot(p);
    const out: number[] = [];
    expect(runToStop(core, out)).toBe(Exit.Poweroff);
    expect(Buffer.from(out).toString()).toBe('hello!\n');
    expect([core.x(R.s2), core.x(R.s3)]).toEqual([0n, 5n]);
    expect(core.x(R.s4)).toBe(SBI_ERR_INVALID_PARAM);
  });

  it('DBCN read and legacy getchar take console input', async () => {
    const p = new SProgram();
    p.li(R.a0, 3).la(R.a1, 'buf').li(R.a2, 0).li(R.a7, EXT.DBCN).li(R.a6, 1).i('ecall').keep(R.s2, R.s3);
    p.la(R.t0, 'buf').i('lbu', { rd: R.s4, rs1: R.t0, imm: 2 });
    p.sbi(2, 0).keep(R.s5).sbi(2, 0).keep(R.s6);
    p.shutdown().align(8).label('buf').bytes(new Uint8Array(8));
    const core = await boot(p);
    core.sendConsole(new TextEncoder().encode('abcd'));
    expect(runToStop(core)).toBe(Exit.Poweroff);
    expect([core.x(R.s2), core.x(R.s3), core.x(R.s4)]).toEqual([0n, 3n, 0x63n]);
    expect(core.x(R.s5)).toBe(0x64n);
    expect(core.x(R.s6)).toBe(BigInt.asUintN(64, -1n)); // nothing left
  });

  it('TIME: set_timer raises the supervisor timer interrupt at the requested time', async () => {
    const p = new SProgram();
    p.la(R.t0, 'handler').i('csrrw', { rd: 0, rs1: R.t0, csr: CSR.stvec });
    p.li(R.t0, 1 << 5).i('csrrs', { rd: 0, rs1: R.t0, csr: CSR.sie });
    p.i('csrrs', { rd: R.s3, rs1: 0, csr: CSR.time }).i('addi', { rd: R.a0, rs1: R.s3, imm: 1000 });
    p.li(R.a7, EXT.TIME).li(R.a6, 0).i('ecall');
    p.li(R.t0, 2).i('csrrs', { rd: 0, rs1: R.t0, csr: CSR.sstatus }); // SIE
    p.label('spin').i('jal', { rd: 0 }, 'spin');
    p.label('handler').i('csrrs', { rd: R.s2, rs1: 0, csr: CSR.scause }).i('csrrs', { rd: R.s4, rs1: 0, csr: CSR.time });
    p.shutdown();
    const core = await boot(p);
    expect(runToStop(core)).toBe(Exit.Poweroff);
    expect(core.x(R.s2)).toBe((1n << 63n) | 5n);
    const late = core.x(R.s4) - core.x(R.s3);
    expect(late).toBeGreaterThanOrEqual(1000n);
    expect(late).toBeLessThan(1100n);
  });

  it('IPI to hart 0 sets sip.SSIP; a mask naming a missing hart is INVALID_PARAM', async () => {
    const p = new SProgram().sbi(EXT.IPI, 0, 1, 0).keep(R.s2).i('csrrs', { rd: R.s3, rs1: 0, csr: CSR.sip });
    p.sbi(EXT.IPI, 0, 2, 0).keep(R.s4).shutdown();
    const core = await boot(p);
    expect(runToStop(core)).toBe(Exit.Poweroff);
    expect(core.x(R.s2)).toBe(0n);
    expect(core.x(R.s3) & 2n).toBe(2n);
    expect(core.x(R.s4)).toBe(SBI_ERR_INVALID_PARAM);
  });

  it('HSM: hart 0 is started; other harts do not exist', async () => {
    const p = new SProgram()
      .sbi(EXT.HSM, 2, 0).keep(R.s2, R.s3)
      .sbi(EXT.HSM, 0, 0, ENTRY, 0).keep(R.s4)
      .sbi(EXT.HSM, 2, 1).keep(R.s5)
      .shutdown();
    const core = await boot(p);
    expect(runToStop(core)).toBe(Exit.Poweroff);
    expect([core.x(R.s2), core.x(R.s3)]).toEqual([0n, 0n]);
    expect(core.x(R.s4)).toBe(SBI_ERR_ALREADY_AVAILABLE);
    expect(core.x(R.s5)).toBe(SBI_ERR_INVALID_PARAM);
  });

  it('SRST: shutdown with a failure reason, reboot, and a bad type', async () => {
    let core = await boot(new SProgram().shutdown(1));
    expect(runToStop(core)).toBe(Exit.Poweroff);
    expect(core.exitValue).toBe(1);
    core = await boot(new SProgram().sbi(EXT.SRST, 0, 1, 0));
    expect(runToStop(core)).toBe(Exit.Reset);
    core = await boot(new SProgram().sbi(EXT.SRST, 0, 7, 0).keep(R.s2).shutdown());
    expect(runToStop(core)).toBe(Exit.Poweroff);
    expect(core.x(R.s2)).toBe(SBI_ERR_INVALID_PARAM);
  });
});

describe('PLIC', () => {
  it('routes the UART receive interrupt to S-mode; claim and complete', async () => {
    const p = new SProgram();
    p.la(R.t0, 'handler').i('csrrw', { rd: 0, rs1: R.t0, csr: CSR.stvec });
    p.li(R.t1, PLIC).li(R.t0, 1).i('sw', { rs1: R.t1, rs2: R.t0, imm: 10 * 4 }); // priority[10] = 1
    p.li(R.t2, PLIC + 0x2080n).li(R.t0, 1 << 10).i('sw', { rs1: R.t2, rs2: R.t0, imm: 0 }); // enable ctx 1
    p.li(R.t2, UART).li(R.t0, 1).i('sb', { rs1: R.t2, rs2: R.t0, imm: 1 }); // IER.ERBFI
    p.li(R.t0, 1 << 9).i('csrrs', { rd: 0, rs1: R.t0, csr: CSR.sie });
    p.li(R.t0, 2).i('csrrs', { rd: 0, rs1: R.t0, csr: CSR.sstatus });
    p.label('idle').i('wfi').i('jal', { rd: 0 }, 'idle');
    p.label('handler');
    p.li(R.t1, PLIC + 0x20_1004n).i('lw', { rd: R.s2, rs1: R.t1, imm: 0 }); // claim
    p.li(R.t2, UART).i('lbu', { rd: R.a0, rs1: R.t2, imm: 0 });
    p.li(R.t1, PLIC + 0x20_1004n).i('lw', { rd: R.s3, rs1: R.t1, imm: 0 }); // nothing else pending
    p.li(R.t1, PLIC + 0x20_1004n).i('sw', { rs1: R.t1, rs2: R.s2, imm: 0 }); // complete
    p.li(R.a7, EXT.DBCN).li(R.a6, 2).i('ecall').shutdown();
    const core = await boot(p);
    expect(core.run(10_000)).toBe(Exit.Wfi); // nothing can wake it yet
    core.sendConsole(new TextEncoder().encode('x'));
    const out: number[] = [];
    expect(runToStop(core, out)).toBe(Exit.Poweroff);
    expect(core.x(R.s2)).toBe(10n);
    expect(core.x(R.s3)).toBe(0n);
    expect(String.fromCharCode(...out)).toBe('x');
    expect(core.stats().plicClaims).toBe(1n);
    expect(core.stats().interruptsByCause[9]).toBe(1n);
  });

  it('a host device line is masked by the threshold and by priority 0', async () => {
    const p = new SProgram();
    const sip = (rd: number) => p.i('csrrs', { rd, rs1: 0, csr: CSR.sip });
    p.li(R.t1, PLIC).li(R.t0, 2).i('sw', { rs1: R.t1, rs2: R.t0, imm: 3 * 4 }); // priority[3] = 2
    p.li(R.t2, PLIC + 0x2080n).li(R.t0, 1 << 3).i('sw', { rs1: R.t2, rs2: R.t0, imm: 0 });
    p.li(R.t2, PLIC + 0x20_1000n).li(R.t0, 2).i('sw', { rs1: R.t2, rs2: R.t0, imm: 0 }); // threshold 2
    sip(R.s2);
    p.i('sw', { rs1: R.t2, rs2: 0, imm: 0 }); // threshold 0
    sip(R.s3);
    p.i('sw', { rs1: R.t1, rs2: 0, imm: 3 * 4 }); // priority 0: never
    sip(R.s4);
    p.shutdown();
    const core = await boot(p);
    core.setIrq(3, true);
    expect(runToStop(core)).toBe(Exit.Poweroff);
    expect([core.x(R.s2), core.x(R.s3), core.x(R.s4)].map((v) => v & 0x200n)).toEqual([0n, 0x200n, 0n]);
  });
});

describe('host device windows (virtio-mmio registers modelled by the host)', () => {
  it('loads read the window; stores are queued and exit with EXIT_MMIO before the next instruction', async () => {
    const p = new SProgram();
    p.li(R.t1, VIRTIO0).i('lw', { rd: R.s2, rs1: R.t1, imm: 0 });
    p.li(R.t0, 0x1234).i('sw', { rs1: R.t1, rs2: R.t0, imm: 0x70 });
    p.i('lw', { rd: R.s3, rs1: R.t1, imm: 0x70 }).shutdown();
    const core = await boot(p);
    const regs = core.mapHostWindow(0, VIRTIO0, 0x1000);
    regs.setUint32(0, 0x74726976, true);
    expect(core.run(1000)).toBe(Exit.Mmio);
    expect(core.x(R.s2)).toBe(0x74726976n);
    const writes = core.takeMmioWrites();
    expect(writes).toEqual([{ slot: 0, pa: VIRTIO0 + 0x70n, size: 4, value: 0x1234n }]);
    // the host applies the store; the guest's next load sees it
    regs.setUint32(0x70, 0x1234, true);
    expect(runToStop(core)).toBe(Exit.Poweroff);
    expect(core.x(R.s3)).toBe(0x1234n);
    expect(core.takeMmioWrites()).toEqual([]);
    expect(core.stats().mmioExits).toBe(1n);
  });

  it('an unmapped slot is an access fault, and a window larger than 4 KiB is refused', async () => {
    const p = new SProgram();
    p.la(R.t0, 'handler').i('csrrw', { rd: 0, rs1: R.t0, csr: CSR.stvec });
    p.li(R.t1, VIRTIO0 + 0x1000n).i('lw', { rd: R.s2, rs1: R.t1, imm: 0 });
    p.label('handler').i('csrrs', { rd: R.s3, rs1: 0, csr: CSR.scause }).shutdown();
    const core = await boot(p);
    core.mapHostWindow(0, VIRTIO0, 0x1000);
    expect(() => core.mapHostWindow(1, VIRTIO0 + 0x1000n, 0x2000)).toThrow(RangeError);
    expect(runToStop(core)).toBe(Exit.Poweroff);
    expect(core.x(R.s3)).toBe(5n); // load access fault
  });
});
