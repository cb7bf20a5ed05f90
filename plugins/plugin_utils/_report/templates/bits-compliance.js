/* winbits.bits compliance report: the job table (sort, filter, pages) over the embedded JSON rows.
   Text goes into the page with textContent only, never innerHTML: job names are chosen by users of
   the audited hosts. The Content-Security-Policy allows this script by its hash and nothing else. */
(function () {
  "use strict";
  var raw = JSON.parse(document.getElementById("report-data").textContent);
  var F = {};
  raw.fields.forEach(function (name, index) { F[name] = index; });
  var strings = raw.strings;
  var LABELS = { compliant: "Compliant", violation: "Violation", waived: "Waived", unmanaged: "Unmanaged",
    unassessed: "Unassessed", not_assessed: "Not assessed", no_jobs: "No jobs", noncompliant: "Non-compliant" };
  // Most urgent first: the default order of the table.
  var SEVERITY = { violation: 0, unassessed: 1, not_assessed: 2, waived: 3, unmanaged: 4, compliant: 5, no_jobs: 6 };
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

  function str(index) { return index === null || index === undefined ? "" : strings[index]; }

  var rows = raw.rows.map(function (r) {
    var host = raw.hosts[r[F.host]];
    var row = {
      host: host[0], hostStatus: str(host[1]), hostReason: host[2] || "",
      id: r[F.id] || "", name: r[F.name] === null ? "" : r[F.name], owner: str(r[F.owner]),
      state: str(r[F.state]), type: str(r[F.type]), flags: str(r[F.flags]), helper_token: str(r[F.helper_token]),
      status: str(r[F.status]), rule: str(r[F.rule]), detail: r[F.detail], jobless: r[F.id] === null
    };
    row.search = [row.host, row.name, row.id, row.owner, row.rule, row.flags, row.helper_token, row.state,
      row.type, row.status, row.hostReason].join("\u0001").toLowerCase();
    return row;
  });

  var view = { sort: "status", dir: 1, text: "", status: "all", page: 0, size: 50, shown: rows };
  var tbody = document.getElementById("job-rows");
  var matchCount = document.getElementById("match-count");
  var pageInfo = document.getElementById("page-info");
  var prev = document.getElementById("page-prev");
  var next = document.getElementById("page-next");

  function compareBy(key) {
    if (key === "status") {
      return function (a, b) {
        return (SEVERITY[a.status] - SEVERITY[b.status]) || collator.compare(a.host, b.host) || collator.compare(a.name, b.name);
      };
    }
    return function (a, b) {
      return collator.compare(a[key], b[key]) || collator.compare(a.host, b.host) || collator.compare(a.id, b.id);
    };
  }

  function recompute() {
    var text = view.text, status = view.status;
    var shown = rows.filter(function (row) {
      return (status === "all" || row.status === status) && (!text || row.search.indexOf(text) !== -1);
    });
    var compare = compareBy(view.sort), dir = view.dir;
    shown.sort(function (a, b) { return dir * compare(a, b); });
    view.shown = shown;
    view.page = 0;
    render();
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function pill(status) { return el("span", "pill st-" + status, LABELS[status] || status); }

  function cell(tr, text, className) {
    var td = el("td", className, text);
    tr.appendChild(td);
    return td;
  }

  function copyButton(text) {
    var button = el("button", "copy", "Copy");
    button.type = "button";
    button.addEventListener("click", function () {
      if (navigator.clipboard) {
        navigator.clipboard.writeText(text).then(function () { button.textContent = "Copied"; }, function () { button.textContent = "Select and copy"; });
      }
    });
    return button;
  }

  function detailRow(row) {
    var d = row.detail, td = el("td");
    td.colSpan = 8;
    function heading(text, extra) {
      var k = el("div", "k", text);
      if (extra) { k.appendChild(extra); }
      td.appendChild(k);
    }
    if (d.problems) {
      heading("Problems");
      if (d.expected) { td.appendChild(el("div", "expected", "Rule " + row.rule + " expects " + d.expected)); }
      var list = el("ul");
      d.problems.forEach(function (p) { list.appendChild(el("li", null, p)); });
      td.appendChild(list);
    }
    if (d.fix_task) { heading("Fix task", copyButton(d.fix_task)); td.appendChild(el("pre", null, d.fix_task)); }
    if (d.fix_command) { heading("Ad hoc"); td.appendChild(el("code", "cmd", d.fix_command)); }
    if (row.status === "violation" && !d.fix_task) { heading("Fix"); td.appendChild(el("div", null, "No module task fixes this yet: see the problems above.")); }
    if (d.waiver) { heading("Waived"); td.appendChild(el("div", null, d.waiver)); }
    if (d.expired_waivers) { heading("Expired waivers"); d.expired_waivers.forEach(function (w) { td.appendChild(el("div", null, w)); }); }
    if (d.read_error) { heading("Could not read"); td.appendChild(el("div", null, d.read_error)); }
    if (d.job_error) { heading("Job error"); td.appendChild(el("div", null, d.job_error)); }
    var tr = el("tr", "detail");
    tr.appendChild(td);
    return tr;
  }

  function jobRow(row) {
    var tr = el("tr", "row");
    tr.dataset.status = row.status;
    var hostCell = cell(tr, row.host);
    if (row.hostStatus !== "compliant") { hostCell.appendChild(document.createTextNode(" ")); hostCell.appendChild(pill(row.hostStatus)); }
    if (row.jobless) {
      cell(tr, row.hostReason || "no BITS jobs", "none job");
    } else {
      var job = cell(tr, row.name, "job");
      job.appendChild(el("code", null, row.id));
    }
    cell(tr, "").appendChild(pill(row.status));
    cell(tr, row.rule);
    cell(tr, row.flags);
    cell(tr, row.helper_token);
    cell(tr, row.owner);
    cell(tr, row.state + (row.type ? " · " + row.type : ""));
    return tr;
  }

  function render() {
    var total = view.shown.length, pages = Math.max(1, Math.ceil(total / view.size));
    if (view.page >= pages) { view.page = pages - 1; }
    var start = view.page * view.size, end = Math.min(total, start + view.size);
    var fragment = document.createDocumentFragment();
    for (var i = start; i < end; i++) {
      var row = view.shown[i];
      fragment.appendChild(jobRow(row));
      if (row.detail) { fragment.appendChild(detailRow(row)); }
    }
    if (!total) {
      var tr = el("tr"), td = el("td", "empty", "No job matches the filter.");
      td.colSpan = 8; tr.appendChild(td); fragment.appendChild(tr);
    }
    tbody.replaceChildren(fragment);
    matchCount.textContent = total === rows.length ? "Showing all " + total + " rows"
      : total + " of " + rows.length + " rows match";
    pageInfo.textContent = total ? "Rows " + (start + 1) + "–" + end + " of " + total + " · page " + (view.page + 1) + " of " + pages : "";
    prev.disabled = view.page === 0;
    next.disabled = view.page >= pages - 1;
  }

  function updateSortHeaders() {
    document.querySelectorAll("#job-table thead th").forEach(function (th) {
      var key = th.querySelector("button").dataset.sort;
      th.setAttribute("aria-sort", key === view.sort ? (view.dir > 0 ? "ascending" : "descending") : "none");
    });
  }

  document.querySelectorAll("#job-table thead button").forEach(function (button) {
    button.addEventListener("click", function () {
      var key = button.dataset.sort;
      view.dir = view.sort === key ? -view.dir : 1;
      view.sort = key;
      updateSortHeaders();
      recompute();
    });
  });

  var timer = null;
  document.getElementById("filter-text").addEventListener("input", function (event) {
    var value = event.target.value.trim().toLowerCase();
    clearTimeout(timer);
    // A short pause keeps typing smooth on 50,000 rows.
    timer = setTimeout(function () { view.text = value; recompute(); }, 120);
  });

  var counts = { all: rows.length };
  rows.forEach(function (row) { counts[row.status] = (counts[row.status] || 0) + 1; });
  document.querySelectorAll("[data-status-filter]").forEach(function (chip) {
    var key = chip.dataset.statusFilter;
    chip.querySelector("[data-chip-count]").textContent = String(counts[key] || 0);
    if (key !== "all" && !counts[key]) { chip.hidden = true; }
    chip.addEventListener("click", function () {
      view.status = key;
      document.querySelectorAll("[data-status-filter]").forEach(function (other) {
        other.classList.toggle("active", other === chip);
        other.setAttribute("aria-pressed", other === chip ? "true" : "false");
      });
      recompute();
    });
  });

  prev.addEventListener("click", function () { if (view.page > 0) { view.page -= 1; render(); } });
  next.addEventListener("click", function () { view.page += 1; render(); });
  document.getElementById("page-size").addEventListener("change", function (event) {
    view.size = parseInt(event.target.value, 10) || 50;
    view.page = 0;
    render();
  });

  updateSortHeaders();
  recompute();
  document.documentElement.dataset.ready = "true";
}());
