/* bgpemu web view: the lab's timeline (docs/web.md, "Timeline, traffic, injections").
 *
 * Injections, convergences with their duration, UPDATE and best-path-change counts,
 * refusals, worker faults, intent changes, the lab's start and stop: the snapshot's
 * `timeline` then each pushed `{"type": "timeline", "entry": ...}`, newest on top, in
 * #timeline.  (actions.css styles the three W-act panels.)
 */
(function () {
  "use strict";

  var MAX = 500;

  var box = document.getElementById("timeline");
  if (!box || !window.bgpemu) return;
  var title = document.createElement("h2");
  title.textContent = "Timeline";
  var list = document.createElement("ol");
  list.id = "timeline-entries";
  list.reversed = true;
  box.replaceChildren(title, list);

  var WORDS = {
    injected: "injected",
    converged: "converged",
    rejected: "refused",
    worker_exited: "worker exited",
    worker_stopped: "worker stopped",
    worker_resumed: "worker resumed",
    intents_changed: "intents changed",
    lab_started: "lab started",
    lab_converged: "lab converged",
    lab_stopped: "lab stopped",
    lab_offline: "lab offline",
  };

  function clock(epoch) {
    if (typeof epoch !== "number") return "";
    var d = new Date(epoch * 1000);
    var pad = function (n, w) { return String(n).padStart(w || 2, "0"); };
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) +
      "." + pad(d.getMilliseconds(), 3);
  }

  function figures(e) {
    var out = [];
    if (typeof e.duration === "number") out.push(e.duration.toFixed(3) + " s");
    if (typeof e.updates === "number") out.push(e.updates + " UPDATEs");
    if (typeof e.best_path_changes === "number") out.push(e.best_path_changes + " best-path changes");
    if (typeof e.prefixes === "number") out.push(e.prefixes + " prefixes");
    return out.join(", ");
  }

  function item(e) {
    var li = document.createElement("li");
    li.className = "entry " + String(e.event);
    li.dataset.event = String(e.event);
    if (e.op) li.dataset.op = String(e.op);
    var when = document.createElement("time");
    when.textContent = clock(e.time);
    var what = document.createElement("b");
    what.textContent = WORDS[e.event] || String(e.event);
    li.append(when, " ", what);
    var detail = e.detail || (e.op ? String(e.op) : "");
    if (detail) li.append(" ", detail);
    var numbers = figures(e);
    if (numbers) {
      var span = document.createElement("span");
      span.className = "figures";
      span.textContent = numbers;
      li.append(" · ", span);
    }
    return li;
  }

  function add(entry) {
    list.insertBefore(item(entry), list.firstChild);
    while (list.children.length > MAX) list.removeChild(list.lastChild);
  }

  window.bgpemu.on("snapshot", function (m) {
    list.replaceChildren();
    (m.timeline || []).forEach(add);
  });
  window.bgpemu.on("timeline", function (m) { if (m.entry) add(m.entry); });
})();
