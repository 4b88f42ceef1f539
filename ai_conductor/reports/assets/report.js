/* The HTML report's filters and sorting: reads the rows' data-* attributes, never inserts HTML. */
(function () {
  "use strict";
  var table = document.getElementById("findings");
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var shown = document.getElementById("shown");
  var empty = document.getElementById("no-match");
  var severities = document.querySelectorAll("input[name=severity]");
  var category = document.getElementById("filter-category");
  var status = document.getElementById("filter-status");
  var path = document.getElementById("filter-path");

  function wanted() {
    var sev = {};
    Array.prototype.forEach.call(severities, function (box) { sev[box.value] = box.checked; });
    return { sev: sev, category: category.value, status: status.value,
             path: path.value.trim().toLowerCase() };
  }

  function matches(row, w) {
    var d = row.dataset;
    return w.sev[d.severity] !== false &&
      (!w.category || d.category === w.category) &&
      (!w.status || d.status === w.status) &&
      (!w.path || d.path.toLowerCase().indexOf(w.path) !== -1);
  }

  function apply() {
    var w = wanted();
    var count = 0;
    rows.forEach(function (row) {
      var ok = matches(row, w);
      row.hidden = !ok;
      if (ok) { count += 1; }
    });
    shown.textContent = count + " of " + rows.length + " shown";
    empty.hidden = count !== 0;
  }

  var keys = {
    severity: function (d) { return [-Number(d.rank), d.path, Number(d.line)]; },
    status: function (d) { return [d.status, -Number(d.rank)]; },
    category: function (d) { return [d.category, -Number(d.rank)]; },
    rule: function (d) { return [d.rule, d.path, Number(d.line)]; },
    location: function (d) { return [d.path, Number(d.line)]; }
  };

  function compare(a, b) {
    for (var i = 0; i < a.length; i += 1) {
      if (a[i] < b[i]) { return -1; }
      if (a[i] > b[i]) { return 1; }
    }
    return 0;
  }

  function sortBy(th) {
    var key = keys[th.dataset.key];
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
      cell.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    rows.sort(function (a, b) {
      var order = compare(key(a.dataset), key(b.dataset));
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    var button = th.querySelector("button");
    if (button && keys[th.dataset.key]) {
      button.addEventListener("click", function () { sortBy(th); });
    }
  });
  Array.prototype.forEach.call(severities, function (box) { box.addEventListener("change", apply); });
  category.addEventListener("change", apply);
  status.addEventListener("change", apply);
  path.addEventListener("input", apply);
  apply();
}());
