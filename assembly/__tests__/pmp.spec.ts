// PMP address matching (privileged spec 3.7.1): NAPOT/TOR/NA4 ranges, priority, partial
// matches, M-mode and locked entries, page uniformity for the TLB.
import { csrRawSet, PRV_M, PRV_S, PRV_U, ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC } from '../hart/state';
import { CSR_PMPCFG0, CSR_PMPADDR0 } from '../hart/opcodes.gen';
import { pmpCheck, pmpPageUniform, pmpRecount } from '../mmu/pmp';

const R: u64 = 1, W: u64 = 2, X: u64 = 4, L: u64 = 0x80;
const TOR: u64 = 1 << 3, NA4: u64 = 2 << 3, NAPOT: u64 = 3 << 3;

function setPmp(cfg0: u64, addrs: u64[]): void {
  for (let i = 0; i < 16; i++) csrRawSet(CSR_PMPADDR0 + i, i < addrs.length ? addrs[i] : 0);
  csrRawSet(CSR_PMPCFG0, cfg0);
  csrRawSet(CSR_PMPCFG0 + 2, 0);
  pmpRecount();
}

describe('pmp', () => {
  test('no active entry: M allowed, S and U denied', () => {
    setPmp(0, []);
    expect(pmpCheck(0x8000_0000, 8, ACCESS_READ, PRV_M)).toBe(true);
    expect(pmpCheck(0x8000_0000, 8, ACCESS_READ, PRV_S)).toBe(false);
    expect(pmpCheck(0x8000_0000, 8, ACCESS_READ, PRV_U)).toBe(false);
  });

  test('NAPOT: trailing ones give the size', () => {
    // 0x8000_0000 + 64 KiB: pmpaddr = (base >> 2) | (size/8 - 1)
    setPmp(NAPOT | R, [(0x8000_0000 >> 2) | 0x1fff]);
    expect(pmpCheck(0x8000_0000, 8, ACCESS_READ, PRV_S)).toBe(true);
    expect(pmpCheck(0x8000_fff8, 8, ACCESS_READ, PRV_S)).toBe(true);
    expect(pmpCheck(0x8001_0000, 8, ACCESS_READ, PRV_S)).toBe(false);
    expect(pmpCheck(0x8000_0000, 8, ACCESS_WRITE, PRV_S)).toBe(false);
    // an access straddling the end matches only in part: denied
    expect(pmpCheck(0x8000_fffc, 8, ACCESS_READ, PRV_S)).toBe(false);
  });

  test('all ones NAPOT covers everything', () => {
    setPmp(NAPOT | R | W | X, [0xffff_ffff_ffff_ffff]);
    expect(pmpCheck(0, 8, ACCESS_EXEC, PRV_U)).toBe(true);
    expect(pmpCheck(0xff_ffff_ffff_fff0, 8, ACCESS_WRITE, PRV_U)).toBe(true);
  });

  test('TOR uses the previous address as the base; entry 0 starts at 0', () => {
    setPmp((TOR | R) | ((TOR | R | W) << 8), [0x1000 >> 2, 0x3000 >> 2]);
    expect(pmpCheck(0x0ff8, 8, ACCESS_WRITE, PRV_S)).toBe(false);
    expect(pmpCheck(0x0ff8, 8, ACCESS_READ, PRV_S)).toBe(true);
    expect(pmpCheck(0x1000, 8, ACCESS_WRITE, PRV_S)).toBe(true);
    expect(pmpCheck(0x2ff8, 8, ACCESS_WRITE, PRV_S)).toBe(true);
    expect(pmpCheck(0x3000, 8, ACCESS_READ, PRV_S)).toBe(false);
  });

  test('NA4 is four bytes; the lowest-numbered matching entry wins', () => {
    setPmp((NA4 | R) | ((NAPOT | R | W) << 8), [0x2000 >> 2, (0 >> 2) | 0x7ff]);
    expect(pmpCheck(0x2000, 4, ACCESS_WRITE, PRV_S)).toBe(false); // entry 0: read only
    expect(pmpCheck(0x2004, 4, ACCESS_WRITE, PRV_S)).toBe(true); // entry 1
  });

  test('M-mode is checked only against locked entries', () => {
    setPmp(NAPOT | R, [(0x8000_0000 >> 2) | 0x1fff]);
    expect(pmpCheck(0x8000_0000, 8, ACCESS_WRITE, PRV_M)).toBe(true);
    setPmp(NAPOT | R | L, [(0x8000_0000 >> 2) | 0x1fff]);
    expect(pmpCheck(0x8000_0000, 8, ACCESS_WRITE, PRV_M)).toBe(false);
    expect(pmpCheck(0x8000_0000, 8, ACCESS_READ, PRV_M)).toBe(true);
  });

  test('a page is cacheable only if one entry covers all of it or none touches it', () => {
    setPmp(NAPOT | R, [(0x8000_0800 >> 2) | 0xff]); // 2 KiB in the middle of a page
    expect(pmpPageUniform(0x8000_0000)).toBe(false);
    expect(pmpPageUniform(0x8000_1000)).toBe(true);
    setPmp(NAPOT | R, [(0x8000_0000 >> 2) | 0x1fff]);
    expect(pmpPageUniform(0x8000_f000)).toBe(true);
  });
});
