// The signing page: a signature pad (npm's signature_pad) on the canvas, for touch, stylus and
// mouse. On submit a drawn signature goes in the hidden "signature" field as a PNG data URL; an
// empty pad sends nothing (the typed name is then the signature, and the server says if both
// are missing).
(function () {
  "use strict";
  var canvas = document.getElementById("signature-pad");
  var form = document.getElementById("sign-form");
  if (!canvas || !form || typeof SignaturePad === "undefined") {
    return;
  }
  var field = form.querySelector("input[name='signature']");
  var pad = new SignaturePad(canvas, { penColor: "#111", minWidth: 1, maxWidth: 2.5 });

  // The canvas drawn at the screen's density; resizing clears it (the pad says so).
  function fit() {
    var ratio = Math.max(window.devicePixelRatio || 1, 1);
    var data = pad.isEmpty() ? null : pad.toData();
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    pad.clear();
    if (data) {
      pad.fromData(data);
    }
  }
  window.addEventListener("resize", fit);
  fit();

  document.getElementById("signature-clear").addEventListener("click", function () {
    pad.clear();
    field.value = "";
  });
  form.addEventListener("submit", function () {
    field.value = pad.isEmpty() ? "" : pad.toDataURL("image/png");
  });
})();
