// The focused Linux boots (slow: ~10 s each): Debian's riscv64 kernel under `wasmvisor run`,
// typed at through its busybox shell as a user would, on native, hw-assist and kvm; booted
// once more through Debian's real OpenSBI, and under full. Everything else in the suite uses
// small guests.
import { describe, it, expect } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'dist/cli.js');
const G = join(ROOT, 'build/guests/linux');
const OPENSBI = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin';

// Build the guest (a no-op when up to date); exit 3 means it cannot be downloaded here.
const build = spawnSync(process.execPath, [join(ROOT, 'scripts/guests-linux.mjs')], { encoding: 'utf8' });
const noGuest = build.status === 0 ? '' : ` (skipped: npm run guests:linux failed: ${build.stderr.trim().split('\n').at(-1)})`;
if (build.status !== 0 && build.status !== 3) throw new Error(`guests:linux failed:\n${build.stderr}`);
const manifest = noGuest ? undefined : JSON.parse(readFileSync(join(G, 'manifest.json'), 'utf8'));

interface Session {
  /** resolves when the output matches, with the output so far */
  expect(re: RegExp, ms?: number): Promise<string>;
  type(s: string): void;
  exit: Promise<number | null>;
  output(): string;
}

function start(args: string[]): Session {
  const p = spawn(process.execPath, [CLI, 'run', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const waiters: (() => void)[] = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    waiters.splice(0).forEach((w) => w());
  };
  p.stdout.on('data', onData);
  p.stderr.on('data', onData);
  const exit = new Promise<number | null>((r) => p.on('exit', (c) => { r(c); waiters.splice(0).forEach((w) => w()); }));
  return {
    output: () => out,
    type: (s) => p.stdin.write(s),
    exit,
    expect(re, ms = 120_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { p.kill(); reject(new Error(`timed out waiting for ${re}; output:\n${out.slice(-2000)}`)); }, ms);
        const check = () => {
          if (re.test(out)) { clearTimeout(timer); resolve(out); return; }
          if (p.exitCode !== null) { clearTimeout(timer); reject(new Error(`exited ${p.exitCode} before ${re}; output:\n${out.slice(-2000)}`)); return; }
          waiters.push(check);
        };
        check();
      });
    },
  };
}

/** Debian's kvm.ko.xz in the initramfs (packed as shipped, not loaded at boot: scripts/guests-linux.mjs). */
const KVM_KO = '/lib/modules/$(uname -r)/kernel/arch/riscv/kvm/kvm.ko.xz';

/** busybox ash's prompt; it asks the terminal for the cursor position (ESC [6n) after it. */
const PROMPT = /# (\x1b\[6n)?$/;

/**
 * Wait for the busybox shell of a session; returns a function that types a command and
 * resolves with what it printed (after its echoed line, before the next prompt).
 */
async function shell(s: Session): Promise<(cmd: string) => Promise<string>> {
  await s.expect(/wasmvisor: shell ready[\s\S]*# (\x1b\[6n)?$/);
  return async (cmd: string) => {
    const before = s.output().length;
    s.type(cmd + '\n');
    await s.expect(new RegExp(`${cmd.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}[\\s\\S]*${PROMPT.source}`));
    return s.output().slice(before).split('\n').slice(1, -1).join('\n');
  };
}

const DISK = () => `file=${join(G, 'disk.ext4')},if=virtio,format=raw,readonly=on`;

describe('Debian Linux on the native machine', () => {
  it.skipIf(!!noGuest)(`boots to the busybox shell; uname, cpuinfo, ls, sha256sum on the virtio disk, insmod kvm.ko.xz (/dev/kvm), poweroff${noGuest}`, async () => {
    const s = start(['-m', '512M', '-kernel', join(G, 'Image'), '-initrd', join(G, 'initramfs.cpio.gz'),
      '-append', 'console=ttyS0 quiet', '-drive', DISK()]);
    const command = await shell(s);
    expect(await command('uname -a')).toMatch(/^Linux \S+ 7\.\S+riscv64 .* riscv64 GNU\/Linux/m);
    const cpuinfo = await command('cat /proc/cpuinfo');
    expect(cpuinfo).toMatch(/^isa\s+: rv64imafdch_zicntr_zicsr_zifencei/m);
    expect(cpuinfo).toMatch(/^mmu\s+: sv48/m);
    expect(await command('ls /')).toMatch(/bin\s+dev\s+etc\s+init\s+lib\s+mnt\s+proc/);
    const sums = await command('sha256sum /mnt/hello.txt /mnt/data.bin');
    expect(sums).toContain(`${manifest.diskFiles['hello.txt']}  /mnt/hello.txt`);
    expect(sums).toContain(`${manifest.diskFiles['data.bin']}  /mnt/data.bin`);
    // (after the commands above: command() matches its echo anywhere in the output)
    // the hart has the H extension (-cpu rv64 default): KVM probes it and /dev/kvm appears
    // (the shell's line editor wraps an echoed line at 80 columns: two short commands)
    await command(`k=${KVM_KO}`);
    expect(await command('insmod $k; echo insmod=$?')).toMatch(/^insmod=0$/m);
    expect(await command('ls /dev/kvm')).toMatch(/^\/dev\/kvm$/m);
    const kvmLog = await command('dmesg | grep kvm');
    expect(kvmLog).toMatch(/kvm \[\d+\]: hypervisor extension available/);
    expect(kvmLog).toMatch(/kvm \[\d+\]: highest G-stage page table mode is Sv48x4/);
    expect(kvmLog).toMatch(/kvm \[\d+\]: VMID 14 bits available/);
    s.type('poweroff\n');
    expect(await s.exit).toBe(0);
    expect(s.output()).toMatch(/reboot: Power down/);
  }, 300_000);

  it.skipIf(!!noGuest || !existsSync(OPENSBI))(`boots through Debian's OpenSBI (fw_dynamic.bin) in M-mode${noGuest || (existsSync(OPENSBI) ? '' : ' (skipped: apt-get install opensbi)')}`, async () => {
    const s = start(['-bios', OPENSBI, '-m', '512M', '-kernel', join(G, 'Image'), '-initrd', join(G, 'initramfs.cpio.gz'),
      '-append', 'console=ttyS0 quiet wvrun="uname -m; cat /sys/firmware/devicetree/base/model"', '--stats']);
    expect(await s.exit).toBe(0);
    const out = s.output();
    expect(out).toMatch(/OpenSBI v1\.\d/);
    expect(out).toMatch(/Domain0 Next Mode\s+: S-mode/);
    expect(out).toMatch(/^riscv64$/m);
    expect(out).toContain('riscv-virtio,qemu');
    expect(out).toContain('wasmvisor: run exit 0');
    // OpenSBI answers the SBI calls, so the host's SBI saw none
    expect(out).toMatch(/^sbiCalls\s+0$/m);
  }, 300_000);

  // full virtualization (assembly/vmm/full.ts): the same kernel deprivileged in U-mode, once
  // trap-and-emulate on lazy shadow tables, once binary-translated on traced ones
  it.skipIf(!!noGuest)(`boots unmodified under full (trap-and-emulate, lazy shadows), its virtio disk through emulated MMIO${noGuest}`, async () => {
    const s = start(['--type', 'full', '-kernel', join(G, 'Image'), '-initrd', join(G, 'initramfs.cpio.gz'),
      '-drive', `file=${join(G, 'disk.ext4')},if=virtio,format=raw,readonly=on`,
      '-append', 'console=ttyS0 quiet wvrun="uname -m; grep ^isa /proc/cpuinfo; sha256sum /mnt/hello.txt"', '--stats']);
    expect(await s.exit).toBe(0);
    const out = s.output();
    expect(out).toMatch(/^riscv64$/m);
    expect(out).toMatch(/^isa\s+: rv64imafdc_/m); // no h: the hart gives no help
    expect(out).toContain(`${manifest.diskFiles['hello.txt']}  /mnt/hello.txt`);
    expect(out).toContain('wasmvisor: run exit 0');
    const stat = (n: string) => BigInt(new RegExp(`^${n}\\s+(\\d+)$`, 'm').exec(out)![1]);
    // every privileged instruction of the kernel trapped: illegal-instruction traps at least as many
    expect(stat('fvEmulated')).toBeGreaterThan(100_000n);
    expect(stat('fvTraps')).toBeGreaterThan(stat('fvEmulated') + stat('fvSbiCalls'));
    expect(stat('fvHiddenFaults')).toBeGreaterThan(10_000n);
    expect(stat('fvShadowSyncs')).toBeGreaterThan(1000n);
    expect(stat('fvPtWrites')).toBe(0n);
    expect(stat('fvMmio')).toBeGreaterThan(100n);
    expect(stat('fvBtRewritten')).toBe(0n);
  }, 300_000);

  it.skipIf(!!noGuest)(`boots unmodified under full (binary translation, traced shadows) to its shell${noGuest}`, async () => {
    const s = start(['--type', 'full', '--technique', 'binary-translation', '--shadow', 'trace', '-kernel', join(G, 'Image'),
      '-initrd', join(G, 'initramfs.cpio.gz'), '-append', 'console=ttyS0 quiet wvrun="uname -m; ls /"', '--stats']);
    expect(await s.exit).toBe(0);
    const out = s.output();
    expect(out).toMatch(/^riscv64$/m);
    expect(out).toMatch(/^bin\s+dev\s+etc\s+init/m);
    expect(out).toContain('wasmvisor: run exit 0');
    const stat = (n: string) => BigInt(new RegExp(`^${n}\\s+(\\d+)$`, 'm').exec(out)![1]);
    // the kernel's privileged instructions were rewritten into calls: far fewer traps than emulations
    expect(stat('fvBtRewritten')).toBeGreaterThan(1000n);
    expect(stat('fvBtBlocks')).toBeGreaterThan(stat('fvBtRewritten'));
    expect(stat('fvEmulated')).toBeGreaterThan(3n * stat('traps'));
    // shadows follow the page tables by write-protection: PTE writes applied, no fence needed
    expect(stat('fvPtWrites')).toBeGreaterThan(10_000n);
    expect(stat('fvShadowSyncs')).toBe(0n);
  }, 300_000);

  it.skipIf(!!noGuest)(`boots unmodified under hw-assist (VS-mode, two-stage translation) to its shell, its virtio disk through emulated MMIO${noGuest}`, async () => {
    const s = start(['--type', 'hw-assist', '-m', '512M', '-kernel', join(G, 'Image'), '-initrd', join(G, 'initramfs.cpio.gz'),
      '-drive', DISK(), '-append', 'console=ttyS0 quiet', '--stats']);
    const command = await shell(s);
    expect(await command('uname -m')).toMatch(/^riscv64$/m);
    expect(await command('sha256sum /mnt/hello.txt')).toContain(`${manifest.diskFiles['hello.txt']}  /mnt/hello.txt`);
    s.type('poweroff\n');
    expect(await s.exit).toBe(0);
    const out = s.output();
    // every translation was two-stage; the guest's SBI calls and device accesses were VM exits
    const stat = (n: string) => BigInt(new RegExp(`^${n}\\s+(\\d+)$`, 'm').exec(out)![1]);
    expect(stat('walks2d')).toBe(stat('pageWalks'));
    expect(stat('hvSbiCalls')).toBeGreaterThan(1000n);
    expect(stat('hvMmio')).toBeGreaterThan(100n);
    expect(stat('hvExits')).toBeGreaterThanOrEqual(stat('hvSbiCalls') + stat('hvMmio'));
  }, 300_000);

  // the kvm machine (src/kvm/): the VM in a worker, its devices in the userspace VMM
  it.skipIf(!!noGuest)(`boots under kvm to its shell through the userspace VMM in a worker, its virtio disk served by it${noGuest}`, async () => {
    const s = start(['--type', 'kvm', '-m', '512M', '-kernel', join(G, 'Image'), '-initrd', join(G, 'initramfs.cpio.gz'),
      '-drive', DISK(), '-append', 'console=ttyS0 quiet', '--stats']);
    const command = await shell(s);
    expect(await command('uname -a')).toMatch(/^Linux \S+ 7\.\S+riscv64 .* riscv64 GNU\/Linux/m);
    expect(await command('sha256sum /mnt/hello.txt')).toContain(`${manifest.diskFiles['hello.txt']}  /mnt/hello.txt`);
    s.type('poweroff\n');
    expect(await s.exit).toBe(0);
    const out = s.output();
    expect(out).toMatch(/reboot: Power down/);
    // the exits the userspace VMM handled, and the SBI calls the kernel answered itself
    expect(out).toMatch(/^ {2}KVM_EXIT_MMIO\s+\d+$/m);
    expect(out).toMatch(/^KVM_EXIT_MMIO by device: .*serial \d+/m);
    expect(out).toMatch(/^KVM_EXIT_MMIO by device: .*virtio/m);
    expect(Number(/^hvSbiCalls\s+(\d+)$/m.exec(out)![1])).toBeGreaterThan(1000);
  }, 300_000);

  it.skipIf(!!noGuest)(`on a hart without H (-cpu rv64,h=off), insmod kvm.ko.xz fails as on such hardware (ENODEV)${noGuest}`, async () => {
    const s = start(['-cpu', 'rv64,h=off', '-m', '512M', '-kernel', join(G, 'Image'), '-initrd', join(G, 'initramfs.cpio.gz'),
      '-append', `console=ttyS0 quiet wvrun="grep ^isa /proc/cpuinfo; insmod ${KVM_KO}; echo insmod=$?; ls /dev/kvm; dmesg | grep kvm"`]);
    expect(await s.exit).toBe(0);
    const out = s.output();
    expect(out).toMatch(/^isa\s+: rv64imafdc_zicntr/m);
    expect(out).toMatch(/can't insert .*kvm\.ko\.xz': No such device/);
    expect(out).toMatch(/^insmod=19$/m); // ENODEV
    expect(out).toMatch(/ls: \/dev\/kvm: No such file or directory/);
    expect(out).toMatch(/kvm \[\d+\]: hypervisor extension not available/);
  }, 300_000);
});
