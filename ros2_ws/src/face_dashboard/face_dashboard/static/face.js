// One face ID (admin): its profile, visits and the erase button, which calls face_erase's erasure.
"use strict";

const faceId = Number(location.pathname.split("/").pop());
const $ = (id) => document.getElementById(id);

async function load() {
  $("title").textContent = `Face ID ${faceId}`;
  const face = await (await fetch(`/api/faces/${faceId}`)).json();
  const p = face.profile;
  $("profile").textContent = p
    ? `${p.appearances} sightings, ${p.visits} visit(s), median age ${p.median_age === null ? "unknown" : p.median_age.toFixed(1)} (${p.age_bucket}), ${p.gender}`
    : "Nothing stored for this face ID.";
  const table = $("visits");
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const label of ["camera", "from (UTC)", "to (UTC)", "seconds", "sightings"]) head.appendChild(Object.assign(document.createElement("th"), { textContent: label }));
  const body = table.createTBody();
  for (const v of face.visits) {
    const row = body.insertRow();
    for (const value of [v.camera_id, v.start, v.end, v.dwell_s.toFixed(0), v.sightings]) row.insertCell().textContent = value;
  }
}

$("erase").addEventListener("click", async () => {
  if (!confirm(`Erase face ID ${faceId} everywhere? This cannot be undone.`)) return;
  const response = await fetch(`/api/faces/${faceId}`, { method: "DELETE" });
  const body = await response.json();
  await load();  // the page shows what is left before it says what was done
  $("result").textContent = response.ok
    ? `Erased: ${body.events} sightings, ${body.descriptors} descriptors, ${body.crops} crops.`
    : `Not erased: ${body.detail}`;
});

load();
