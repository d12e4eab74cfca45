// Flat indices of a 1-D-in-spirit dispatch laid out over a 2-D grid of workgroups (x, y): the host splits more than
// 65,535 workgroups over y. Needs `override WG: u32` (the workgroup size) in the including shader.

// Flat index of the workgroup: one per row in the row-per-workgroup kernels.
fn workgroup_linear_id(wg: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wg.y * nwg.x + wg.x;
}

// Flat invocation index: one per element in the element-wise kernels.
fn linear_id(wg: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return workgroup_linear_id(wg, nwg) * WG + lid;
}
