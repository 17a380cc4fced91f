import { describe, it, expect } from 'vitest';
import { Core, Exit } from '../src/core.js';
import { Program, R, RAM } from './helpers/program.js';

const UART = 0x1000_0000n;
const TEST = 0x0010_0000n;

describe('core smoke', () => {
  it('runs a loop, prints on the UART and powers off', async () => {
    const p = new Program();
    p.li(R.a0, 0).li(R.a1, 100);
    p.label('loop').i('add', { rd: R.a0, rs1: R.a0, rs2: R.a1 }).i('addi', { rd: R.a1, rs1: R.a1, imm: -1 });
    p.i('bne', { rs1: R.a1, rs2: 0 }, 'loop');
    p.li(R.t0, UART).li(R.t1, 'O'.charCodeAt(0)).i('sb', { rs1: R.t0, rs2: R.t1 });
    p.li(R.t1, 'K'.charCodeAt(0)).i('sb', { rs1: R.t0, rs2: R.t1 });
    p.li(R.t0, TEST).li(R.t1, 0x5555).i('sw', { rs1: R.t0, rs2: R.t1 });
    const core = await Core.create(1 << 20);
    core.writeRam(RAM, p.assemble());
    core.reset(RAM);
    const r = core.run(10_000);
    expect(r).toBe(Exit.Poweroff);
    expect(core.x(R.a0)).toBe(5050n);
    expect(new TextDecoder().decode(core.drainConsole())).toBe('OK');
    const s = core.stats();
    expect(s.instret).toBeGreaterThan(300n);
  });
});
