/* winbits.bits compliance report: the job table (sort, filter, pages) over the embedded JSON rows.
   Text goes into the page with textContent only, never innerHTML: job names are chosen by users of
   the audited hosts. The Content-Security-Policy allows this script by its hash and nothing else. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var F = {};
  data.fields.forEach(function (name, index) { F[name] = index; });

  // The data comes in blocks (one per process that wrote a slice of the hosts, html.py), each with
  // indexes into its own strings, shapes, hosts and rows: joined here, every index offset.
  function joined(blocks) {
    var all = { strings: [], shapes: [], hosts: [], rows: [], ids: [] };
    blocks.forEach(function (block) {
      var strings = all.strings.length, shapes = all.shapes.length, hosts = all.hosts.length, rows = all.rows.length;
      function text(index) { return index === null ? null : index + strings; }
      block.strings.forEach(function (value) { all.strings.push(value); });
      block.shapes.forEach(function (shape) { all.shapes.push(shape.map(text)); });
      block.hosts.forEach(function (host) { all.hosts.push([host[0], text(host[1]), host[2]]); });
      block.rows.forEach(function (row) {
        var copy = row.slice();
        copy[F.host] += hosts; copy[F.shape] += shapes;
        copy[F.name] = text(copy[F.name]); copy[F.detail] = text(copy[F.detail]);
        all.rows.push(copy);
      });
      (block.ids || []).forEach(function (pair) { all.ids.push([pair[0] + rows, pair[1]]); });
    });
    return all;
  }
  var raw = joined(data.blocks);
  var strings = raw.strings;
  var LABELS = { compliant: "Compliant", violation: "Violation", waived: "Waived", unmanaged: "Unmanaged",
    unassessed: "Unassessed", not_assessed: "Not assessed", no_jobs: "No jobs", noncompliant: "Non-compliant" };
  // Most urgent first: the default order of the table.
  var SEVERITY = { violation: 0, unassessed: 1, not_assessed: 2, waived: 3, unmanaged: 4, compliant: 5, no_jobs: 6 };
  var ID_MARK = "\u0001I", HOST_MARK = "\u0001H";

  function str(index) { return index === null || index === undefined ? "" : strings[index]; }

  // A row's fields (html.py, TableBuilder): host, id, name, shape, detail. The rows come sorted by
  // host, then GUID: a row's position is its place in that order, which every sort keeps for ties.
  var shapes = raw.shapes.map(function (s) { return s.map(str); });
  var rows = raw.rows.map(function (r, position) {
    var host = raw.hosts[r[F.host]], shape = shapes[r[F.shape]];
    return {
      position: position, hostIndex: r[F.host], host: host[0], hostStatus: str(host[1]), hostReason: host[2] || "",
      id: r[F.id] || "", name: str(r[F.name]), owner: shape[0], state: shape[1], type: shape[2], flags: shape[3],
      helper_token: shape[4], status: shape[5], rule: shape[6], detailIndex: r[F.detail],
      jobless: shape[5] === "not_assessed" || shape[5] === "no_jobs"
    };
  });
  raw.ids.forEach(function (pair) { rows[pair[0]].id = pair[1]; });
  rows.forEach(function (row) {
    row.search = [row.host, row.name, row.id, row.owner, row.rule, row.flags, row.helper_token, row.state,
      row.type, row.status, row.hostReason].join("\u0001").toLowerCase();
  });

  function inner(text) { var json = JSON.stringify(text); return json.slice(1, json.length - 1); }

  // The detail's JSON text with the row's GUID and host put back in place of their marks.
  function detailOf(row) {
    if (row.detailIndex === null || row.detailIndex === undefined) { return null; }
    if (!row.detail) {
      row.detail = JSON.parse(strings[row.detailIndex].split(ID_MARK).join(inner(row.id))
        .split(HOST_MARK).join(inner(row.host)));
    }
    return row.detail;
  }

  // Sort keys: one rank per distinct value, computed once per column, so that a sort of every row
  // compares numbers (a typed array), not strings: fast enough for 500,000 rows.
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
  var ranks = {};
  function rankOf(key) {
    if (ranks[key]) { return ranks[key]; }
    var rank = new Float64Array(rows.length);
    if (key === "host") {
      rows.forEach(function (row, i) { rank[i] = row.hostIndex; });
    } else if (key === "status") {
      rows.forEach(function (row, i) { rank[i] = SEVERITY[row.status]; });
    } else {
      var distinct = Object.create(null), values = [];
      rows.forEach(function (row) { var v = row[key]; if (!(v in distinct)) { distinct[v] = 0; values.push(v); } });
      values.sort(values.length < 5000 ? collator.compare : undefined);
      values.forEach(function (v, i) { distinct[v] = i; });
      rows.forEach(function (row, i) { rank[i] = distinct[row[key]]; });
    }
    ranks[key] = rank;
    return rank;
  }

  function sortRows(list, key, dir) {
    var rank = rankOf(key), n = rows.length, keys = new Float64Array(list.length);
    for (var i = 0; i < list.length; i++) {
      var p = list[i].position;
      // Ties keep the host-then-GUID order, in either direction of the column.
      keys[i] = (dir > 0 ? rank[p] : -rank[p]) * n + p;
    }
    keys.sort();
    var sorted = new Array(list.length);
    for (var j = 0; j < keys.length; j++) {
      var k = keys[j], pos = ((k % n) + n) % n;
      sorted[j] = rows[pos];
    }
    return sorted;
  }

  var view = { sort: "status", dir: 1, text: "", status: "all", page: 0, size: 50, shown: rows };
  var tbody = document.getElementById("job-rows");
  var matchCount = document.getElementById("match-count");
  var pageInfo = document.getElementById("page-info");
  var prev = document.getElementById("page-prev");
  var next = document.getElementById("page-next");

  function recompute() {
    var text = view.text, status = view.status;
    var shown = rows.filter(function (row) {
      return (status === "all" || row.status === status) && (!text || row.search.indexOf(text) !== -1);
    });
    view.shown = sortRows(shown, view.sort, view.dir);
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
      if (detailOf(row)) { fragment.appendChild(detailRow(row)); }
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
