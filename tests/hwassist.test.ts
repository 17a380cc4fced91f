// The hw-assist machine (assembly/vmm/hwassist.ts, docs/hw-assist.md): an unmodified guest in
// VS-mode under a VMM in HS-mode. Small guests check what exits to the VMM and what it does
// with it; the teaching kernel's native build runs its nanobenchmarks unmodified. (Debian's
// kernel under hw-assist: tests/linux.test.ts.)
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { createMachine, ConfigError } from '../src/machine.js';
import { encode } from '../src/isa/encode.js';
import { Program, R } from './helpers/program.js';
import { SRST, DBCN, TIME, KERNEL_PA, linuxImage, sbi } from './helpers/guest.js';

const { a0, a1, s0, s1, s2, s3, s4, t0 } = R;
const MEMORY = 16n << 20n;
const GUEST_END = 0x8000_0000n + MEMORY;
const UART = 0x1000_0000n;
const HSTATUS = 0x600;

/**
 * A guest whose trap handler records scause, stval and sepc in s2, s3, s4 and powers off;
 * `body` runs with it installed.
 */
function guest(body: (p: Program) => void): Uint8Array {
  return linuxImage((p) => {
    p.la(t0, 'handler').i('csrrw', { rd: 0, rs1: t0, csr: 0x105 }); // stvec
    body(p);
    sbi(p, SRST, 0, 0, 0);
    p.align(4).label('handler');
    p.i('csrrs', { rd: s2, rs1: 0, csr: 0x142 }).i('csrrs', { rd: s3, rs1: 0, csr: 0x143 }).i('csrrs', { rd: s4, rs1: 0, csr: 0x141 });
    sbi(p, SRST, 0, 0, 0);
  });
}

async function runGuest(kernel: Uint8Array, extra: Parameters<typeof createMachine>[0] = {}) {
  let out = '';
  const m = await createMachine({ type: 'hw-assist', memory: MEMORY, kernel, onConsole: (b) => (out += new TextDecoder().decode(b)), ...extra });
  const r = await m.run();
  return { m, r, out, x: (i: number) => m.core.x(i), s: r.stats };
}

describe('hw-assist: the guest in VS-mode', () => {
  it('starts in VS-mode with a0 = 0 and a1 = the device tree (a guest physical address)', async () => {
    const { m, r, x } = await runGuest(guest((p) => p.i('addi', { rd: s1, rs1: a1, imm: 0 })));
    expect(m.layout.resetMode).toBe('VS');
    expect(r.reason).toBe('poweroff');
    expect(x(s1)).toBe(m.layout.dtb.start);
    expect(m.layout.dtb.end).toBeLessThanOrEqual(GUEST_END);
    // its SBI calls were VM exits the VMM answered, walks two-dimensional
    expect(r.stats.hvSbiCalls).toBe(1n); // SRST
    expect(r.stats.hvExits).toBe(r.stats.hvSbiCalls);
    expect(r.stats.sbiCalls).toBe(r.stats.hvSbiCalls);
  });

  it('an H-mode CSR access (a virtual instruction) reaches the guest as the illegal instruction a bare hart raises', async () => {
    const { r, x } = await runGuest(guest((p) => p.label('bad').i('csrrs', { rd: a0, rs1: 0, csr: HSTATUS })));
    expect(r.reason).toBe('poweroff');
    expect(x(s2)).toBe(2n);
    expect(x(s3)).toBe(BigInt(encode('csrrs', { rd: a0, rs1: 0, csr: HSTATUS })));
    expect(x(s4)).toBe(KERNEL_PA + 0x40n + 12n); // after the header and the stvec setup (la: 8 bytes, csrw)
    expect(r.stats.hvReflected).toBe(1n);
    expect(r.stats.exceptionsByCause[22]).toBe(1n);
  });

  it.each([
    ['unmapped guest physical memory', 0x4000_0000n],
    ["the VMM's RAM above the guest's (its G-stage tables)", GUEST_END],
    ['beyond all RAM', GUEST_END + (64n << 20n)],
  ])('a load from %s is a load access fault in the guest; a store a store access fault', async (_, addr) => {
    const load = await runGuest(guest((p) => p.li(t0, addr).i('ld', { rd: a0, rs1: t0, imm: 0 })));
    expect([load.x(s2), load.x(s3)]).toEqual([5n, addr]);
    const store = await runGuest(guest((p) => p.li(t0, addr).li(a0, 0x5a).i('sd', { rs1: t0, rs2: a0, imm: 0 })));
    expect([store.x(s2), store.x(s3)]).toEqual([7n, addr]);
    // the store did not land anywhere the host can see
    if (addr === GUEST_END) expect(store.m.core.ram(GUEST_END, 1)[0]).not.toBe(0x5a);
    expect(load.r.stats.exceptionsByCause[21]).toBe(1n);
    expect(store.r.stats.exceptionsByCause[23]).toBe(1n);
  });

  it('device registers are emulated on guest-page faults: UART stores and loads, compressed loads and stores too', async () => {
    const { r, out, x } = await runGuest(guest((p) => {
      p.li(t0, UART);
      for (const ch of 'hi') p.li(a0, ch.charCodeAt(0)).i('sb', { rs1: t0, rs2: a0, imm: 0 });
      p.i('lbu', { rd: s1, rs1: t0, imm: 5 }); // LSR: THR empty, transmitter idle
      // PLIC priority of source 1 (a 32-bit register) by c.sw, read back by c.lw
      p.li(a1, 0x0c00_0004n).li(a0, 5).i('c.sw', { rs1: a1, rs2: a0, imm: 0 }).i('c.lw', { rd: s0, rs1: a1, imm: 0 });
    }));
    expect(r.reason).toBe('poweroff');
    expect(out).toContain('hi');
    expect(x(s1) & 0x60n).toBe(0x60n);
    expect(x(s0)).toBe(5n);
    expect(r.stats.hvMmio).toBe(5n);
    expect(r.stats.hvReflected).toBe(0n);
  });

  it("SBI buffers must lie in the guest's RAM: a DBCN write from the VMM's RAM is SBI_ERR_INVALID_PARAM", async () => {
    const dbcnWrite = (p: Program, len: number, addrReg: number, save: number) =>
      p.li(a0, len).i('addi', { rd: a1, rs1: addrReg, imm: 0 }).li(R.a2, 0).li(R.a7, DBCN).li(R.a6, 0).i('ecall').i('addi', { rd: save, rs1: a0, imm: 0 });
    const { r, out, x } = await runGuest(guest((p) => {
      p.la(t0, 'msg');
      dbcnWrite(p, 3, t0, s1);
      p.li(t0, GUEST_END - 1n); // the last byte is the guest's, the next two the VMM's
      dbcnWrite(p, 3, t0, s2);
      p.i('jal', { rd: 0 }, 'done').label('msg').bytes(new TextEncoder().encode('ok\n')).align(4).label('done');
    }));
    expect(r.reason).toBe('poweroff');
    expect(out).toContain('ok\n');
    expect(x(s1)).toBe(0n);
    expect(x(s2)).toBe(BigInt.asUintN(64, -3n));
  });

  it('the SBI timer is the guest\'s vstimecmp: a supervisor timer interrupt in VS-mode without a VM exit', async () => {
    const { r, x } = await runGuest(guest((p) => {
      p.i('csrrs', { rd: a0, rs1: 0, csr: 0xc01 }).i('addi', { rd: a0, rs1: a0, imm: 1000 }); // time + 1000
      sbi(p, TIME, 0); // (a0 kept: sbi() only loads the ids when no arguments are given)
      p.li(t0, 1 << 5).i('csrrs', { rd: 0, rs1: t0, csr: 0x104 }); // sie.STIE
      p.li(t0, 1 << 1).i('csrrs', { rd: 0, rs1: t0, csr: 0x100 }); // sstatus.SIE
      p.label('wait').i('wfi').i('jal', { rd: 0 }, 'wait');
    }));
    expect(r.reason).toBe('poweroff');
    expect(x(s2)).toBe((1n << 63n) | 5n);
    expect(r.stats.interruptsByCause[6]).toBe(1n); // VSTI, taken in VS-mode as STI
    expect(r.stats.hvExits).toBe(r.stats.hvSbiCalls); // the timer itself cost no exit
  });

  it("a device interrupt reaches the guest through the PLIC's S context as hvip.VSEIP: the guest takes it, claims and completes it", async () => {
    const PLIC = 0x0c00_0000n, UART_IRQ = 10, S_CONTEXT = PLIC + 0x20_1000n;
    const kernel = linuxImage((p) => {
      p.la(t0, 'handler').i('csrrw', { rd: 0, rs1: t0, csr: 0x105 }); // stvec
      p.li(t0, UART).li(a0, 1).i('sb', { rs1: t0, rs2: a0, imm: 1 }); // IER: received data available
      p.li(t0, PLIC + BigInt(4 * UART_IRQ)).li(a0, 1).i('sw', { rs1: t0, rs2: a0, imm: 0 }); // priority 1
      p.li(t0, PLIC + 0x2080n).li(a0, 1 << UART_IRQ).i('sw', { rs1: t0, rs2: a0, imm: 0 }); // enabled for the S context
      p.li(t0, S_CONTEXT).i('sw', { rs1: t0, rs2: 0, imm: 0 }); // threshold 0
      p.li(t0, 1 << 9).i('csrrs', { rd: 0, rs1: t0, csr: 0x104 }); // sie.SEIE
      p.li(t0, 1 << 1).i('csrrs', { rd: 0, rs1: t0, csr: 0x100 }); // sstatus.SIE
      p.label('wait').i('wfi').i('jal', { rd: 0 }, 'wait');
      p.align(4).label('handler');
      p.i('csrrs', { rd: s2, rs1: 0, csr: 0x142 }); // scause
      p.li(t0, S_CONTEXT).i('lw', { rd: s1, rs1: t0, imm: 4 }); // claim
      p.li(a1, UART).i('lbu', { rd: s3, rs1: a1, imm: 0 }); // the byte (RBR): the UART's line drops
      p.i('sw', { rs1: t0, rs2: s1, imm: 4 }); // complete
      p.i('csrrs', { rd: s4, rs1: 0, csr: 0x144 }); // sip after completing
      sbi(p, SRST, 0, 0, 0);
    });
    let out = '';
    const m = await createMachine({ type: 'hw-assist', memory: MEMORY, kernel, onConsole: (b) => (out += new TextDecoder().decode(b)) });
    expect(m.stats().hvInjected).toBe(0n);
    m.sendConsole('x');
    m.endInput(); // a guest left waiting ends 'idle' instead of waiting for more
    const r = await m.run();
    expect(r.reason, out).toBe('poweroff');
    expect(m.core.x(s2)).toBe((1n << 63n) | 9n); // a supervisor external interrupt, as VS-mode sees it
    expect(m.core.x(s1)).toBe(BigInt(UART_IRQ)); // claimed at the PLIC: the UART
    expect(m.core.x(s3)).toBe(BigInt('x'.charCodeAt(0)));
    expect(m.core.x(s4) & 0x200n).toBe(0n); // claimed, drained and completed: VSEIP withdrawn
    expect(r.stats.hvInjected).toBe(1n); // injected once, by the VMM from the PLIC (no IPIs here)
    expect(r.stats.interruptsByCause[10]).toBe(1n); // the host's VSEI
    expect(r.stats.hvExits).toBe(r.stats.hvSbiCalls + r.stats.hvMmio); // the interrupt itself cost no exit
  });

  it('runs the teaching kernel\'s native build unmodified: every nanobenchmark', async () => {
    const kernel = readFileSync(new URL('../guests/kernel/prebuilt/kernel-native.elf', import.meta.url));
    const { r, out } = await runGuest(kernel, { memory: '64M' });
    expect(r.reason).toBe('poweroff');
    expect(out).toContain('wvbench done');
    for (const name of ['null_syscall', 'page_fault', 'pte_update', 'context_switch', 'mmio_read', 'timer_irq', 'hypercall', 'spawn_exit'])
      expect(out).toMatch(new RegExp(`wvbench name=${name} ops=\\d+`));
    expect(r.stats.walks2d).toBeGreaterThan(0n);
    expect(r.stats.walkRefs2d).toBeGreaterThan(r.stats.walks2d * 3n);
    expect(r.stats.hvMmio).toBeGreaterThan(0n);
  });
});

describe('hw-assist: configuration', () => {
  const kernel = linuxImage((p) => p.i('wfi'));
  it.each([
    ['a hart without H', { cpu: 'rv64,h=off' }, /hw-assist requires hardware support: this hart's ISA lacks the H extension/],
    ['firmware', { bios: new Uint8Array(16) }, /hw-assist: the VMM is the firmware/],
    ['memory not in 2 MiB pages', { memory: '17M' }, /hw-assist: guest memory must be a multiple of 2 MiB/],
  ])('refuses %s', async (_, extra, msg) => {
    await expect(createMachine({ type: 'hw-assist', memory: MEMORY, kernel, ...extra })).rejects.toThrow(ConfigError);
    await expect(createMachine({ type: 'hw-assist', memory: MEMORY, kernel, ...extra })).rejects.toThrow(msg);
  });
});
