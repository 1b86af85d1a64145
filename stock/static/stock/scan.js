// The session form's scan field: a keyboard-wedge scanner types the pack's GS1 label and ends
// with Enter. The server reads it (biip, stock.views.ScanView) and this fills the row's
// product, lot and, for a lot not yet in stock, the new lot's number and expiry. Without
// JavaScript the scan is read on submit instead. The lot list shows the chosen product's lots.
(function () {
  "use strict";
  var container = document.querySelector("[data-scan-url]");
  if (!container) {
    return;
  }
  var url = container.dataset.scanUrl;

  function field(row, name) {
    return row.querySelector('[name$="-' + name + '"]');
  }

  function showLotsOf(row) {
    var product = field(row, "product");
    var lot = field(row, "lot");
    if (!product || !lot) {
      return;
    }
    Array.prototype.forEach.call(lot.options, function (option) {
      var hidden = option.value !== "" && option.dataset.product !== product.value;
      option.hidden = hidden;
      option.disabled = hidden;
      if (hidden && option.selected) {
        lot.value = "";
      }
    });
  }

  function say(row, text, ok) {
    var message = row.querySelector("[data-scan-message]");
    if (message) {
      message.textContent = text;
      message.className = "small " + (ok ? "text-success" : "text-danger");
    }
  }

  function fill(row, scanned) {
    var product = field(row, "product");
    product.value = String(scanned.product);
    showLotsOf(row);
    var lot = field(row, "lot");
    var number = field(row, "new_lot_number");
    var expiry = field(row, "new_lot_expiry");
    var expires = scanned.expiry_date ? ", expires " + scanned.expiry_date : "";
    if (scanned.refusal) {
      say(row, scanned.refusal, false);
      return false;
    }
    if (scanned.in_stock && lot.querySelector('option[value="' + scanned.lot + '"]')) {
      lot.value = String(scanned.lot);
      say(row, scanned.product_name + ", lot " + scanned.lot_number + expires, true);
      return true;
    }
    if (!scanned.in_stock && number && expiry) {
      lot.value = "";
      number.value = scanned.lot_number;
      expiry.value = scanned.expiry_date;
      say(row, scanned.product_name + ", new lot " + scanned.lot_number + expires +
        ": received with the session.", true);
      return true;
    }
    say(row, "Lot " + scanned.lot_number + " of " + scanned.product_name +
      " is not in stock: ask a manager to receive it.", false);
    return false;
  }

  function read(input) {
    var row = input.closest("[data-product-row]");
    var code = input.value;
    if (!row || !code.trim()) {
      return;
    }
    fetch(url + "?code=" + encodeURIComponent(code), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json();
      })
      .then(function (scanned) {
        if (scanned.error) {
          say(row, scanned.error, false);
        } else if (fill(row, scanned)) {
          input.value = "";
        }
      })
      .catch(function () {
        say(row, "The scan could not be checked: choose the product and lot by hand.", false);
      });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches("[data-scan]")) {
      event.preventDefault(); // the scanner's Enter ends the scan; it does not send the form
      read(event.target);
    }
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-scan]")) {
      read(event.target);
    } else if (event.target.matches('[name$="-product"]')) {
      var row = event.target.closest("[data-product-row]");
      if (row) {
        showLotsOf(row);
      }
    }
  });
  document.querySelectorAll("[data-product-row]").forEach(showLotsOf);
  container.addEventListener("formset:added", function () {
    document.querySelectorAll("[data-product-row]").forEach(showLotsOf);
  });
})();
