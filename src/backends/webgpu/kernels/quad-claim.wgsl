// Which row (of the workgroup's rows, 4 invocations each) and which quarter of it an invocation
// takes. With subgroups, each subgroup claims the next run of sg_size / 4 rows through an
// atomic, so the 4 invocations of a row are a quad of one subgroup whatever its size (≥ 4) or
// lane layout, and their sums can use shuffles; without, invocation lid takes row lid / 4.
// Uniform control flow (the subgroup broadcast); call once per invocation.
//#if SUBGROUPS
var<workgroup> sg_count: atomic<u32>;
//#endif

struct QuadRole {
  row: u32,
  q: u32,
  claim: u32, // the subgroup's claim (0 without subgroups)
}

fn quad_role(lid: u32, sg_lane: u32, sg_size: u32) -> QuadRole {
//#if SUBGROUPS
  var claim = 0u;
  if (sg_lane == 0u) {
    claim = atomicAdd(&sg_count, 1u);
  }
  claim = subgroupBroadcastFirst(claim);
  return QuadRole(claim * (sg_size / 4u) + sg_lane / 4u, sg_lane % 4u, claim);
//#else
  return QuadRole(lid / 4u, lid % 4u, 0u);
//#endif
}
