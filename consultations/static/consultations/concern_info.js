// While concerns are chosen, show what micro-needling can do for each one: benefit, typical
// sessions and interval, from the catalogue embedded in the page (json_script). The form
// works without it; the consultation page shows the same information after saving.
(function () {
  "use strict";
  var data = document.getElementById("catalogue-info");
  var panel = document.getElementById("concern-info");
  var form = document.getElementById("consultation-form");
  if (!data || !panel || !form) {
    return;
  }
  var catalogue = JSON.parse(data.textContent);

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function fact(list, term, value) {
    if (!value) {
      return;
    }
    list.appendChild(element("dt", "col-5", term));
    list.appendChild(element("dd", "col-7 mb-1", value));
  }

  function card(info) {
    var box = element("article", "card mb-2 concern-info-card");
    var body = element("div", "card-body py-2");
    var title = element("h3", "h6 card-title mb-1");
    var link = element("a", "", info.name);
    link.href = info.url;
    link.target = "_blank";
    link.rel = "noopener";
    title.appendChild(link);
    body.appendChild(title);
    body.appendChild(element("p", "small mb-2", info.benefit));
    var facts = element("dl", "row small mb-0");
    fact(facts, "Typical sessions", info.sessions);
    fact(facts, "In studies", info.studied);
    fact(facts, "Interval", info.interval);
    fact(facts, "Evidence", info.evidence);
    body.appendChild(facts);
    if (info.cautions) {
      body.appendChild(element("p", "small text-warning-emphasis mb-0 mt-1", "Caution: " + info.cautions));
    }
    box.appendChild(body);
    return box;
  }

  function render() {
    var chosen = [];
    form.querySelectorAll("select[data-concern-select]").forEach(function (select) {
      if (select.value && catalogue[select.value] && chosen.indexOf(select.value) === -1) {
        chosen.push(select.value);
      }
    });
    panel.replaceChildren();
    if (!chosen.length) {
      panel.appendChild(element("p", "text-body-secondary small", panel.dataset.emptyText));
      return;
    }
    chosen.forEach(function (id) {
      panel.appendChild(card(catalogue[id]));
    });
  }

  form.addEventListener("change", function (event) {
    if (event.target.matches("select[data-concern-select]")) {
      render();
    }
  });
  render();
})();
