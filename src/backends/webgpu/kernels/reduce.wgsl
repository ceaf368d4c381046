// Workgroup-wide sum. With subgroups: one subgroupAdd per subgroup, then the partials are
// combined through workgroup memory; each subgroup claims its slot with an atomic, so this
// depends neither on the subgroup size nor on how invocations are laid out in subgroups.
// Without subgroups: a tree in workgroup memory. Must be called in uniform control flow.
// Needs: const WG (threads per workgroup, a power of two).

//#if SUBGROUPS
var<workgroup> red_parts: array<vec2<f32>, WG>;
var<workgroup> red_count: atomic<u32>;

fn wg_sum2(v: vec2<f32>, lid: u32, sg_lane: u32) -> vec2<f32> {
  let s = subgroupAdd(v);
  if (sg_lane == 0u) {
    red_parts[atomicAdd(&red_count, 1u)] = s;
  }
  workgroupBarrier();
  let n = atomicLoad(&red_count);
  var total = vec2<f32>(0.0);
  for (var i = 0u; i < n; i++) {
    total += red_parts[i];
  }
  workgroupBarrier();
  if (lid == 0u) {
    atomicStore(&red_count, 0u);
  }
  workgroupBarrier();
  return total;
}
//#else
var<workgroup> red_parts: array<vec2<f32>, WG>;

fn wg_sum2(v: vec2<f32>, lid: u32, sg_lane: u32) -> vec2<f32> {
  red_parts[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      red_parts[lid] += red_parts[lid + s];
    }
    workgroupBarrier();
  }
  let total = red_parts[0];
  workgroupBarrier();
  return total;
}
//#endif

fn wg_sum(v: f32, lid: u32, sg_lane: u32) -> f32 {
  return wg_sum2(vec2<f32>(v, 0.0), lid, sg_lane).x;
}
