// fcsr (unprivileged spec, F chapter: "Floating-Point Control and Status Register").
export let frm: u32 = 0;
export let fflags: u32 = 0;

@inline export function fflagsGet(): u64 {
  return fflags;
}
@inline export function fflagsSet(v: u32): void {
  fflags = v;
}
@inline export function setFrm(v: u32): void {
  frm = v;
}
