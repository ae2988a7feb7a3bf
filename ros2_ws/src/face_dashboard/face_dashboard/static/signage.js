// Full-screen signage: shows the offer the camera's signage screen chose, pushed by the server as
// server-sent events (the same JSON as the signage node's `offer` topic). Offer null: the idle screen.
"use strict";

const camera = decodeURIComponent(location.pathname.split("/").pop());
const offerBox = document.getElementById("offer");
const idle = document.getElementById("idle");
const status = document.getElementById("status");

function show(message) {
  const offer = message.offer;
  document.body.dataset.rule = message.rule || "";
  document.body.dataset.offerId = offer ? offer.id || "" : "";
  offerBox.replaceChildren();
  if (offer) {
    if (offer.image) {
      const img = document.createElement("img");
      // a URL as it is; a path is the offers file's folder's, served by the dashboard
      img.src = /^https?:\/\//.test(offer.image)
        ? offer.image
        : `/offer-images/${offer.image.split("/").map(encodeURIComponent).join("/")}`;
      img.alt = "";
      img.onerror = () => img.remove();  // a missing picture must not show a broken-image icon
      offerBox.appendChild(img);
    }
    const text = document.createElement("div");
    text.id = "offer-text";
    text.textContent = offer.text;
    offerBox.appendChild(text);
  }
  offerBox.hidden = !offer;
  idle.hidden = Boolean(offer);
}

const source = new EventSource(`/api/signage/${encodeURIComponent(camera)}/live`);
source.onmessage = (event) => show(JSON.parse(event.data));
source.onopen = () => { status.textContent = camera; };
source.onerror = () => { status.textContent = `${camera}: reconnecting…`; };
