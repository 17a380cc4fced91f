// The kvm machine (docs/kvm.md): the KVM-shaped API on small guests, each VM in its own worker
// (dist/kvm-worker.js: `npm run build` first). Its Debian Linux boot is in linux.test.ts.
import { describe, it, expect, afterEach } from 'vitest';
import { threadId } from 'node:worker_threads';
import { Program, R, RAM } from './helpers/program.js';
import {
  Kvm, Vm, KvmError, KVM_EXIT_MMIO, KVM_EXIT_RISCV_SBI, KVM_EXIT_SYSTEM_EVENT, KVM_EXIT_HLT, KVM_EXIT_INTR,
  KVM_EXIT_INTERNAL_ERROR, KVM_SYSTEM_EVENT_SHUTDOWN, KVM_SYSTEM_EVENT_RESET, KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY,
  KVM_REG_RISCV_CORE_REG, KVM_REG_RISCV_CSR_REG, KVM_REG_RISCV_TIMER_REG, KVM_REG_RISCV_CONFIG_REG, KVM_CAP,
  type KvmExit,
} from '../src/kvm/kvm.js';

const MiB = 1n << 20n;
const SRST = 0x53525354, DBCN = 0x4442434e, TIME = 0x54494d45;
const CSR = { sie: 0x104, stvec: 0x105, sip: 0x144, time: 0xc01, sstatus: 0x100, scause: 0x142 };

const vms: Vm[] = [];
afterEach(async () => {
  await Promise.all(vms.splice(0).map((v) => v.close()));
});

/** A VM in its own worker: `prog` at guest RAM (slot 0, 2 MiB at 0x8000_0000), pc there. */
async function boot(prog: Program, memory = 4n * MiB) {
  const kvm = await Kvm.open();
  const vm = await kvm.createVm({ memory, jit: false });
  vms.push(vm);
  await vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: RAM, memorySize: 2n * MiB, userspaceAddr: 0n });
  await vm.writeMemory(0n, prog.assemble());
  const vcpu = await vm.createVcpu(0);
  await vcpu.setOneReg(KVM_REG_RISCV_CORE_REG('pc'), RAM);
  return { kvm, vm, vcpu };
}

/** sbi_system_reset(type, reason) */
const shutdown = (p: Program, type = 0, reason = 0) => p.li(R.a0, type).li(R.a1, reason).li(R.a7, SRST).li(R.a6, 0).i('ecall');

function expectExit<T extends KvmExit['exit_reason']>(e: KvmExit, reason: T): Extract<KvmExit, { exit_reason: T }> {
  if (e.exit_reason !== reason) throw new Error(`expected exit ${reason}, got ${JSON.stringify(e, (_, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))}`);
  return e as Extract<KvmExit, { exit_reason: T }>;
}

describe('the KVM-shaped API', () => {
  it('answers KVM_GET_API_VERSION and KVM_CHECK_EXTENSION', async () => {
    const kvm = await Kvm.open();
    expect(kvm.getApiVersion()).toBe(12);
    expect(kvm.checkExtension(KVM_CAP.KVM_CAP_USER_MEMORY)).toBe(1);
    expect(kvm.checkExtension(KVM_CAP.KVM_CAP_NR_MEMSLOTS)).toBe(32);
    expect(kvm.checkExtension(KVM_CAP.KVM_CAP_IRQCHIP)).toBe(0);
    expect(kvm.getVcpuMmapSize()).toBe(4096);
  });

  it('KVM_EXIT_MMIO for stores and loads outside the memory slots: phys_addr, data, len, is_write; a load completes with data', async () => {
    const p = new Program();
    p.li(R.t0, 0x1000_0000).li(R.t1, 0x1234_5678).i('sw', { rs1: R.t0, rs2: R.t1, imm: 4 });
    p.i('sb', { rs1: R.t0, rs2: R.t1, imm: 1 });
    p.i('lb', { rd: R.s2, rs1: R.t0, imm: 0 }).i('lbu', { rd: R.s3, rs1: R.t0, imm: 0 });
    p.i('ld', { rd: R.s4, rs1: R.t0, imm: 8 });
    p.li(R.s0, 0x1000_0000).i('c.lw', { rd: R.s1, rs1: R.s0, imm: 12 }); // 2 bytes long: pc advances by 2
    shutdown(p);
    const { vcpu } = await boot(p);
    let e = expectExit(await vcpu.run(), KVM_EXIT_MMIO);
    expect(e.mmio).toMatchObject({ phys_addr: 0x1000_0004n, len: 4, is_write: true });
    expect([...e.mmio.data.subarray(0, 4)]).toEqual([0x78, 0x56, 0x34, 0x12]);
    e = expectExit(await vcpu.run(), KVM_EXIT_MMIO);
    expect(e.mmio).toMatchObject({ phys_addr: 0x1000_0001n, len: 1, is_write: true });
    expect(e.mmio.data[0]).toBe(0x78);
    for (const reg of ['s2', 's3'] as const) {
      e = expectExit(await vcpu.run(), KVM_EXIT_MMIO);
      expect(e.mmio).toMatchObject({ phys_addr: 0x1000_0000n, len: 1, is_write: false });
      e.mmio.data[0] = 0xf0; // the device's answer
      void reg;
    }
    e = expectExit(await vcpu.run(), KVM_EXIT_MMIO);
    expect(e.mmio).toMatchObject({ phys_addr: 0x1000_0008n, len: 8, is_write: false });
    new DataView(e.mmio.data.buffer).setBigUint64(0, 0x1122_3344_5566_7788n, true);
    e = expectExit(await vcpu.run(), KVM_EXIT_MMIO);
    expect(e.mmio).toMatchObject({ phys_addr: 0x1000_000cn, len: 4, is_write: false });
    new DataView(e.mmio.data.buffer).setUint32(0, 0x8000_0001, true);
    const ev = expectExit(await vcpu.run(), KVM_EXIT_SYSTEM_EVENT);
    expect(ev.system_event.type).toBe(KVM_SYSTEM_EVENT_SHUTDOWN);
    expect(await vcpu.getOneReg(KVM_REG_RISCV_CORE_REG('s2'))).toBe(0xffff_ffff_ffff_fff0n); // lb: sign-extended
    expect(await vcpu.getOneReg(KVM_REG_RISCV_CORE_REG('s3'))).toBe(0xf0n); // lbu
    expect(await vcpu.getOneReg(KVM_REG_RISCV_CORE_REG('s4'))).toBe(0x1122_3344_5566_7788n);
    expect(await vcpu.getOneReg(KVM_REG_RISCV_CORE_REG('s1'))).toBe(0xffff_ffff_8000_0001n); // lw: sign-extended
  });

  it('KVM_EXIT_RISCV_SBI for the console calls: extension_id, function_id, args; ret goes to a0/a1', async () => {
    const p = new Program();
    p.li(R.a0, 5).la(R.a1, 'msg').li(R.a2, 0).li(R.a7, DBCN).li(R.a6, 0).i('ecall');
    p.i('addi', { rd: R.s2, rs1: R.a0, imm: 0 }).i('addi', { rd: R.s3, rs1: R.a1, imm: 0 });
    p.li(R.a0, 0x41).li(R.a7, 1).i('ecall'); // legacy putchar
    // an SBI call the kernel answers: sbi_get_spec_version
    p.li(R.a7, 0x10).li(R.a6, 0).i('ecall').i('addi', { rd: R.s4, rs1: R.a1, imm: 0 });
    shutdown(p, 1, 0);
    p.label('msg').bytes(new TextEncoder().encode('hello'));
    const { vm, vcpu } = await boot(p);
    const e = expectExit(await vcpu.run(), KVM_EXIT_RISCV_SBI);
    expect(e.riscv_sbi.extension_id).toBe(BigInt(DBCN));
    expect(e.riscv_sbi.function_id).toBe(0n);
    expect(e.riscv_sbi.args[0]).toBe(5n);
    expect(e.riscv_sbi.args[1]).toBe(p.addr('msg'));
    expect(new TextDecoder().decode(await vm.readMemory(e.riscv_sbi.args[1] - RAM, 5))).toBe('hello');
    e.riscv_sbi.ret[0] = 0n;
    e.riscv_sbi.ret[1] = 5n;
    const put = expectExit(await vcpu.run(), KVM_EXIT_RISCV_SBI);
    expect(put.riscv_sbi.extension_id).toBe(1n);
    expect(put.riscv_sbi.args[0]).toBe(0x41n);
    put.riscv_sbi.ret[0] = 0n;
    const ev = expectExit(await vcpu.run(), KVM_EXIT_SYSTEM_EVENT);
    expect(ev.system_event.type).toBe(KVM_SYSTEM_EVENT_RESET);
    expect(await vcpu.getOneReg(KVM_REG_RISCV_CORE_REG('s2'))).toBe(0n);
    expect(await vcpu.getOneReg(KVM_REG_RISCV_CORE_REG('s3'))).toBe(5n);
    expect(await vcpu.getOneReg(KVM_REG_RISCV_CORE_REG('s4'))).toBe(2n << 24n); // v2.0, answered in the kernel
    const stats = await vm.stats();
    expect(stats.hvSbiCalls).toBe(4n); // DBCN, putchar, BASE, SRST
  });

  it('KVM_EXIT_SYSTEM_EVENT: SRST shutdown with its reason in data[0]', async () => {
    const { vcpu } = await boot(shutdown(new Program(), 0, 1));
    const e = expectExit(await vcpu.run(), KVM_EXIT_SYSTEM_EVENT);
    expect(e.system_event).toEqual({ type: KVM_SYSTEM_EVENT_SHUTDOWN, ndata: 1, data: [1n] });
  });

  it('KVM_EXIT_HLT for WFI with nothing pending (timer_ticks: the armed timer); the timer wakes it', async () => {
    const p = new Program();
    p.i('wfi'); // nothing armed
    p.li(R.t0, 1 << 5).i('csrrs', { rd: 0, rs1: R.t0, csr: CSR.sie }); // STIE, SIE stays 0
    p.i('csrrs', { rd: R.s3, rs1: 0, csr: CSR.time }).i('addi', { rd: R.a0, rs1: R.s3, imm: 1000 });
    p.li(R.a7, TIME).li(R.a6, 0).i('ecall');
    p.i('wfi').i('csrrs', { rd: R.s4, rs1: 0, csr: CSR.time }).i('csrrs', { rd: R.s5, rs1: 0, csr: CSR.sip });
    shutdown(p);
    const { vcpu } = await boot(p);
    let e = expectExit(await vcpu.run(), KVM_EXIT_HLT);
    expect(e.hlt.timer_ticks).toBe(null);
    e = expectExit(await vcpu.run(), KVM_EXIT_HLT);
    const ticks = e.hlt.timer_ticks!;
    expect(ticks).toBeGreaterThan(900n);
    expect(ticks).toBeLessThanOrEqual(1000n);
    await vcpu.advanceTime(ticks);
    expectExit(await vcpu.run(), KVM_EXIT_SYSTEM_EVENT);
    const s3 = await vcpu.getOneReg(KVM_REG_RISCV_CORE_REG('s3'));
    expect(await vcpu.getOneReg(KVM_REG_RISCV_CORE_REG('s4'))).toBeGreaterThanOrEqual(s3 + 1000n);
    expect(await vcpu.getOneReg(KVM_REG_RISCV_CORE_REG('s5')) & 0x20n).toBe(0x20n); // STIP
  });

  it('KVM_IRQ_LINE: raising line 0 makes the guest take a supervisor external interrupt in VS-mode; lowering it ends it', async () => {
    const DEV = 0x1000_0000;
    const p = new Program();
    p.la(R.t0, 'handler').i('csrrw', { rd: 0, rs1: R.t0, csr: CSR.stvec });
    p.li(R.t0, 1 << 9).i('csrrs', { rd: 0, rs1: R.t0, csr: CSR.sie }); // SEIE; sstatus.SIE still 0
    p.li(R.t0, DEV).i('sw', { rs1: R.t0, rs2: 0, imm: 0 }); // "ready": userspace raises the line here
    p.i('csrrs', { rd: R.s3, rs1: 0, csr: CSR.sip }); // SEIP pending, not taken yet
    p.i('wfi'); // pending and enabled: WFI goes on without KVM_EXIT_HLT
    p.li(R.t0, 1 << 1).i('csrrs', { rd: 0, rs1: R.t0, csr: CSR.sstatus }); // SIE: taken here
    p.i('csrrs', { rd: R.s4, rs1: 0, csr: CSR.sip }); // after the handler: the line is low
    p.i('wfi'); // nothing pending: KVM_EXIT_HLT
    shutdown(p);
    // the handler: scause, count, then "claim" at the device (userspace lowers the line), sret
    p.align(4).label('handler').i('csrrs', { rd: R.s2, rs1: 0, csr: CSR.scause }).i('addi', { rd: R.s5, rs1: R.s5, imm: 1 });
    p.li(R.t0, DEV).i('sw', { rs1: R.t0, rs2: R.s5, imm: 4 }).i('sret');
    const { vm, vcpu } = await boot(p);
    let e = expectExit(await vcpu.run(), KVM_EXIT_MMIO);
    expect(e.mmio).toMatchObject({ phys_addr: BigInt(DEV), is_write: true });
    await vm.irqLine(0, 1);
    e = expectExit(await vcpu.run(), KVM_EXIT_MMIO); // the handler's claim: the interrupt was taken
    expect(e.mmio).toMatchObject({ phys_addr: BigInt(DEV + 4), is_write: true });
    expect(e.mmio.data[0]).toBe(1);
    await vm.irqLine(0, 0);
    // sret, then the second WFI: nothing pending, and no timer armed (compare registers all ones)
    expect(expectExit(await vcpu.run(), KVM_EXIT_HLT).hlt.timer_ticks).toBe(null);
    expectExit(await vcpu.run(), KVM_EXIT_SYSTEM_EVENT);
    const reg = (r: 's2' | 's3' | 's4' | 's5') => vcpu.getOneReg(KVM_REG_RISCV_CORE_REG(r));
    expect(await reg('s2')).toBe((1n << 63n) | 9n); // supervisor external interrupt, as VS-mode sees it
    expect(await reg('s3') & 0x200n).toBe(0x200n); // sip.SEIP while the line was high
    expect(await reg('s4') & 0x200n).toBe(0n); // and clear once it was lowered
    expect(await reg('s5')).toBe(1n); // taken once: lowering the line ended it
    const stats = await vm.stats();
    expect(stats.hvInjected).toBe(1n);
    expect(stats.interruptsByCause[10]).toBe(1n); // the host's VSEI, delivered to the guest
  });

  it('KVM_EXIT_INTR when the budget runs out or with immediate_exit; KVM_EXIT_INTERNAL_ERROR for a fetch outside memory', async () => {
    const p = new Program();
    p.label('spin').i('addi', { rd: R.s2, rs1: R.s2, imm: 1 }).li(R.t0, 1000).i('blt', { rs1: R.s2, rs2: R.t0 }, 'spin');
    p.li(R.t0, 0x4000_0000).i('jalr', { rd: 0, rs1: R.t0, imm: 0 });
    const { vcpu } = await boot(p);
    expectExit(await vcpu.run({ budget: 100n }), KVM_EXIT_INTR);
    expectExit(await vcpu.run({ immediateExit: true }), KVM_EXIT_INTR);
    const e = expectExit(await vcpu.run(), KVM_EXIT_INTERNAL_ERROR);
    expect(e.internal.data[0]).toBe(20n); // instruction guest-page fault
    expect(e.internal.data[1]).toBe(0x4000_0000n);
  });

  it('KVM_GET_ONE_REG / KVM_SET_ONE_REG: core registers, CSRs (the guest\'s S CSRs), timer, config; unknown ids fail with ENOENT', async () => {
    const p = new Program();
    p.i('add', { rd: R.s2, rs1: R.a0, rs2: R.a1 }).i('csrrs', { rd: R.s3, rs1: 0, csr: CSR.sstatus });
    shutdown(p);
    const { vcpu } = await boot(p);
    await vcpu.setOneReg(KVM_REG_RISCV_CORE_REG('a0'), 40n);
    await vcpu.setOneReg(KVM_REG_RISCV_CORE_REG(11), 2n);
    await vcpu.setOneReg(KVM_REG_RISCV_CSR_REG('sstatus'), 1n << 18n); // SUM
    await vcpu.setOneReg(KVM_REG_RISCV_CSR_REG('sscratch'), 0xabcdn);
    expect(await vcpu.getOneReg(KVM_REG_RISCV_CORE_REG('pc'))).toBe(RAM);
    expect(await vcpu.getOneReg(KVM_REG_RISCV_CORE_REG('mode'))).toBe(1n);
    expectExit(await vcpu.run(), KVM_EXIT_SYSTEM_EVENT);
    expect(await vcpu.getOneReg(KVM_REG_RISCV_CORE_REG('s2'))).toBe(42n);
    expect((await vcpu.getOneReg(KVM_REG_RISCV_CORE_REG('s3'))) & (1n << 18n)).toBe(1n << 18n);
    expect(await vcpu.getOneReg(KVM_REG_RISCV_CSR_REG('sscratch'))).toBe(0xabcdn);
    expect(await vcpu.getOneReg(KVM_REG_RISCV_TIMER_REG('frequency'))).toBe(10_000_000n);
    const isa = await vcpu.getOneReg(KVM_REG_RISCV_CONFIG_REG('isa'));
    for (const l of 'imafdc') expect(isa & (1n << BigInt(l.charCodeAt(0) - 97))).not.toBe(0n);
    await expect(vcpu.getOneReg(KVM_REG_RISCV_CORE_REG('pc') + 0x100n)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(vcpu.getOneReg(0x1234n)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(vcpu.setOneReg(KVM_REG_RISCV_CONFIG_REG('isa'), 0n)).rejects.toBeInstanceOf(KvmError);
  });

  it('KVM_SET_USER_MEMORY_REGION refuses overlapping slots, unaligned addresses, ranges too big, bad slots; deletes and moves slots', async () => {
    const { vm } = await boot(shutdown(new Program()));
    const region = { slot: 1, guestPhysAddr: 0x9000_0000n, memorySize: 64n << 10n, userspaceAddr: 2n * MiB };
    await vm.setUserMemoryRegion(region);
    const fail = (r: Partial<typeof region> & { flags?: number }, code: string) =>
      expect(vm.setUserMemoryRegion({ ...region, ...r })).rejects.toMatchObject({ name: 'KvmError', code });
    await fail({ slot: 2, guestPhysAddr: 0x9000_8000n }, 'EEXIST'); // overlaps slot 1
    await fail({ slot: 2, guestPhysAddr: RAM + 0x1000n }, 'EEXIST'); // overlaps slot 0
    await fail({ slot: 2, guestPhysAddr: 0xa000_0800n }, 'EINVAL');
    await fail({ slot: 2, guestPhysAddr: 0xa000_0000n, memorySize: 0x1800n }, 'EINVAL');
    await fail({ slot: 2, guestPhysAddr: 0xa000_0000n, userspaceAddr: 0x10n }, 'EINVAL');
    await fail({ slot: 2, guestPhysAddr: 0xa000_0000n, memorySize: 8n * MiB }, 'EFAULT'); // beyond userspace memory
    await fail({ slot: 2, guestPhysAddr: 1n << 41n }, 'EINVAL'); // beyond Sv39x4
    await fail({ slot: 32 }, 'EINVAL');
    await fail({ slot: 2, guestPhysAddr: 0xa000_0000n, flags: 0x80 }, 'EINVAL');
    await fail({ memorySize: 128n << 10n }, 'EINVAL'); // a slot's size cannot change
    await vm.setUserMemoryRegion({ ...region, guestPhysAddr: 0xa000_0000n }); // move
    await vm.setUserMemoryRegion({ ...region, slot: 2 }); // the old range is free again
    await vm.setUserMemoryRegion({ ...region, memorySize: 0n }); // delete
    await fail({ slot: 3, memorySize: 0n }, 'EINVAL'); // nothing to delete
    await expect(vm.createVcpu(0)).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(vm.irqLine(5, 1)).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('KVM_GET_DIRTY_LOG reports exactly the pages written since the last call; read-only slots turn stores into KVM_EXIT_MMIO', async () => {
    const DIRTY = 0x9000_0000n, RO = 0xa000_0000n;
    const p = new Program();
    p.li(R.t0, DIRTY).li(R.t1, 7);
    for (const page of [0, 3, 15]) p.li(R.t2, page * 4096 + 8).i('add', { rd: R.t2, rs1: R.t2, rs2: R.t0 }).i('sd', { rs1: R.t2, rs2: R.t1, imm: 0 });
    p.li(R.t2, 4096 * 5).i('add', { rd: R.t2, rs1: R.t2, rs2: R.t0 }).i('ld', { rd: R.s2, rs1: R.t2, imm: 0 }); // a read does not dirty
    p.li(R.t0, 0x1000_0000).i('sw', { rs1: R.t0, rs2: R.t1, imm: 0 }); // an exit to look at the log
    p.li(R.t0, DIRTY + 3n * 4096n).i('sd', { rs1: R.t0, rs2: R.t1, imm: 0 });
    p.li(R.t0, RO).i('ld', { rd: R.s3, rs1: R.t0, imm: 0 }).i('sd', { rs1: R.t0, rs2: R.t1, imm: 16 });
    shutdown(p);
    const { vm, vcpu } = await boot(p);
    await vm.setUserMemoryRegion({ slot: 1, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: DIRTY, memorySize: 16n * 4096n, userspaceAddr: 2n * MiB });
    await vm.writeMemory(2n * MiB + 64n * 1024n, new Uint8Array([0x5a]));
    await vm.setUserMemoryRegion({ slot: 2, flags: KVM_MEM_READONLY, guestPhysAddr: RO, memorySize: 4096n, userspaceAddr: 2n * MiB + 64n * 1024n });
    expect([...await vm.getDirtyLog(1)]).toEqual([0, 0]);
    expectExit(await vcpu.run(), KVM_EXIT_MMIO);
    expect([...await vm.getDirtyLog(1)]).toEqual([0b0000_1001, 0b1000_0000]); // pages 0, 3, 15
    expect([...await vm.getDirtyLog(1)]).toEqual([0, 0]);
    const e = expectExit(await vcpu.run(), KVM_EXIT_MMIO); // the store to the read-only slot
    expect(e.mmio).toMatchObject({ phys_addr: RO + 16n, is_write: true, len: 8 });
    expect([...await vm.getDirtyLog(1)]).toEqual([0b0000_1000, 0]); // page 3 again, through a flushed TLB
    expectExit(await vcpu.run(), KVM_EXIT_SYSTEM_EVENT);
    expect(await vcpu.getOneReg(KVM_REG_RISCV_CORE_REG('s3'))).toBe(0x5an);
    expect((await vm.readMemory(2n * MiB + 3n * 4096n, 16))[8]).toBe(7);
    await expect(vm.getDirtyLog(0)).rejects.toMatchObject({ code: 'ENOENT' }); // not logging
  });

  it('two VMs in two workers run at the same time, independently: two threads, neither this one, with their runs in flight together', async () => {
    // each counts to its own N, then writes the count to an MMIO register
    const guest = (n: number) => {
      const p = new Program();
      p.li(R.t1, n).label('loop').i('addi', { rd: R.s2, rs1: R.s2, imm: 1 }).i('blt', { rs1: R.s2, rs2: R.t1 }, 'loop');
      p.li(R.t0, 0x1000_0000).i('sd', { rs1: R.t0, rs2: R.s2, imm: 0 });
      return shutdown(p);
    };
    const a = await boot(guest(3_000_000)), b = await boot(guest(5_000_000));
    // each VM is its own host thread: not the test's, not the other's (with transport 'inline'
    // both would report this thread's id)
    expect(a.vm.hostThread).toBeTypeOf('number');
    expect(b.vm.hostThread).toBeTypeOf('number');
    expect(a.vm.hostThread).not.toBe(threadId);
    expect(b.vm.hostThread).not.toBe(threadId);
    expect(a.vm.hostThread).not.toBe(b.vm.hostThread);
    const runToMmio = async (v: typeof a) => {
      let e: KvmExit;
      const runs: { start: number; end: number }[] = [];
      while ((e = await v.vcpu.run({ budget: 1_000_000n })).exit_reason === KVM_EXIT_INTR) runs.push(v.vcpu.lastRun!);
      runs.push(v.vcpu.lastRun!);
      const m = expectExit(e, KVM_EXIT_MMIO);
      return { value: new DataView(m.mmio.data.buffer).getBigUint64(0, true), runs };
    };
    const [ra, rb] = await Promise.all([runToMmio(a), runToMmio(b)]);
    expect(ra.value).toBe(3_000_000n);
    expect(rb.value).toBe(5_000_000n);
    expect(ra.runs.length).toBeGreaterThan(4); // both made progress in slices...
    expect(rb.runs.length).toBeGreaterThan(8);
    // ...and some KVM_RUN of one was in flight while one of the other ran: their intervals, each
    // measured by the thread that ran it, intersect (in one thread the runs would follow each
    // other). No claim about speed: on a busy host the two threads may still share a core.
    const overlapping = ra.runs.flatMap((x) => rb.runs.filter((y) => x.start < y.end && y.start < x.end));
    expect(overlapping.length).toBeGreaterThan(0);
    expectExit(await a.vcpu.run(), KVM_EXIT_SYSTEM_EVENT);
    expectExit(await b.vcpu.run(), KVM_EXIT_SYSTEM_EVENT);
  });

  it('fails with clear errors: a second vCPU, a closed VM, bad memory sizes', async () => {
    const kvm = await Kvm.open();
    await expect(kvm.createVm({ memory: 3n * MiB })).rejects.toMatchObject({ code: 'EINVAL' });
    const vm = await kvm.createVm({ memory: 2n * MiB });
    await expect(vm.createVcpu(1)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(vm.readMemory(2n * MiB - 4n, 8)).rejects.toMatchObject({ code: 'EFAULT' });
    await vm.close();
    await expect(vm.createVcpu(0)).rejects.toMatchObject({ code: 'EBADF' });
    await expect(Kvm.open({ transport: 'x' as 'inline' })).rejects.toMatchObject({ code: 'EINVAL' });
  });
});
