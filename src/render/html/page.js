// netlab's page: step through a lab's events with the keys, keep the place in the URL's
// fragment (#07-sticky-packet/10), switch language and theme. It reads the page it is in
// and nothing else.
(function () {
  "use strict";
  var root = document.documentElement;
  var labs = Array.prototype.slice.call(document.querySelectorAll("section.lab"));
  var pos = document.querySelector(".bar .pos");
  if (labs.length === 0) {
    return;
  }
  var steps = {};
  var current = labs[0];

  function total(lab) {
    return Number(lab.getAttribute("data-events"));
  }

  function stepOf(lab) {
    return Object.prototype.hasOwnProperty.call(steps, lab.id) ? steps[lab.id] : total(lab);
  }

  // Shows a lab's events up to `step` (0: none yet), the current one marked, and beside the
  // drawing the notes of its section so far.
  function render(lab, step) {
    steps[lab.id] = step;
    var shown = lab.querySelectorAll("[data-seq]");
    for (var i = 0; i < shown.length; i++) {
      var seq = Number(shown[i].getAttribute("data-seq"));
      shown[i].classList.toggle("future", seq > step);
      shown[i].classList.toggle("current", seq === step && shown[i].classList.contains("ev"));
    }
    var blocks = lab.querySelectorAll(".in-lang");
    for (var b = 0; b < blocks.length; b++) {
      notes(blocks[b], step);
    }
  }

  function notes(block, step) {
    var event = block.querySelector('g.ev[data-seq="' + step + '"]');
    var first = block.querySelector("g.ev");
    var section = (event || first) ? (event || first).getAttribute("data-section") : "";
    var items = block.querySelectorAll("aside.notes li");
    var any = false;
    for (var i = 0; i < items.length; i++) {
      var item = items[i];
      var same = item.getAttribute("data-section") === section;
      if (item.classList.contains("sec")) {
        item.hidden = !same;
        continue;
      }
      var seq = Number(item.getAttribute("data-seq"));
      var show = same && seq <= step;
      item.hidden = !show;
      item.classList.toggle("current", seq === step);
      any = any || show;
    }
    var none = block.querySelector("aside.notes .none");
    if (none) {
      none.hidden = any;
    }
  }

  function visible(lab) {
    return lab.querySelector('.in-lang[data-lang="' + root.getAttribute("data-lang") + '"]');
  }

  // Goes to `step` of `lab`: shows it, says where in the bar and in the URL's fragment.
  function go(lab, step, scroll) {
    step = Math.max(0, Math.min(total(lab), step));
    current = lab;
    render(lab, step);
    if (pos) {
      pos.textContent = step + " / " + total(lab);
    }
    var hash = "#" + lab.id + "/" + step;
    if (location.hash !== hash) {
      history.replaceState(null, "", hash);
    }
    if (scroll) {
      var block = visible(lab);
      var target = block && (block.querySelector('g.ev[data-seq="' + step + '"]') ||
        block.querySelector("h1"));
      if (target) {
        target.scrollIntoView({ block: "center" });
      }
      var note = block && block.querySelector("aside.notes li.note.current");
      if (note) {
        note.scrollIntoView({ block: "nearest" });
      }
    }
  }

  function fromHash() {
    var match = /^#([^/]+)(?:\/(\d+))?$/.exec(decodeURIComponent(location.hash));
    var lab = null;
    for (var i = 0; match && i < labs.length; i++) {
      if (labs[i].id === match[1]) {
        lab = labs[i];
      }
    }
    if (!lab) {
      for (var j = 0; j < labs.length; j++) {
        render(labs[j], stepOf(labs[j]));
      }
      current = labs[0];
      if (pos) {
        pos.textContent = stepOf(current) + " / " + total(current);
      }
      return;
    }
    for (var k = 0; k < labs.length; k++) {
      if (labs[k] !== lab) {
        render(labs[k], stepOf(labs[k]));
      }
    }
    go(lab, match[2] === undefined ? total(lab) : Number(match[2]), true);
  }

  function next() {
    var at = labs.indexOf(current);
    if (stepOf(current) >= total(current) && at + 1 < labs.length) {
      go(labs[at + 1], 0, true);
    } else {
      go(current, stepOf(current) + 1, true);
    }
  }

  function back() {
    var at = labs.indexOf(current);
    if (stepOf(current) <= 0 && at > 0) {
      go(labs[at - 1], total(labs[at - 1]), true);
    } else {
      go(current, stepOf(current) - 1, true);
    }
  }

  function switchLanguage() {
    var lang = root.getAttribute("data-lang") === "zh" ? "en" : "zh";
    root.setAttribute("data-lang", lang);
    root.setAttribute("lang", lang);
    go(current, stepOf(current), true);
  }

  function switchTheme() {
    var theme = root.getAttribute("data-theme");
    var dark = theme ? theme === "dark" : window.matchMedia("(prefers-color-scheme: dark)").matches;
    root.setAttribute("data-theme", dark ? "light" : "dark");
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) {
      return;
    }
    switch (e.key) {
      case " ":
      case "Spacebar":
      case "ArrowRight":
        next();
        break;
      case "ArrowLeft":
        back();
        break;
      case "Home":
        go(current, 0, true);
        break;
      case "End":
        go(current, total(current), true);
        break;
      default:
        return;
    }
    e.preventDefault();
  });

  var actions = { back: back, next: next, lang: switchLanguage, theme: switchTheme };
  var buttons = document.querySelectorAll("button[data-act]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].addEventListener("click", function (e) {
      actions[e.currentTarget.getAttribute("data-act")]();
      e.currentTarget.blur();
    });
  }

  labs.forEach(function (lab) {
    lab.addEventListener("click", function (e) {
      var event = e.target.closest && e.target.closest("g.ev");
      if (event) {
        go(lab, Number(event.getAttribute("data-seq")), false);
      }
    });
  });

  // With every event of the lab shown, the notes follow the reader: those of the section
  // in the middle of the window.
  var looking = false;
  function follow() {
    looking = false;
    var middle = window.innerHeight * 0.45;
    for (var l = 0; l < labs.length; l++) {
      var box = labs[l].getBoundingClientRect();
      if (box.top <= middle && box.bottom > middle && labs[l] !== current) {
        // The lab in view is the one the keys step through.
        current = labs[l];
        if (pos) {
          pos.textContent = stepOf(current) + " / " + total(current);
        }
      }
    }
    if (stepOf(current) !== total(current)) {
      return;
    }
    var block = visible(current);
    var events = block ? block.querySelectorAll("g.ev") : [];
    var seen = null;
    for (var i = 0; i < events.length; i++) {
      if (events[i].getBoundingClientRect().top > middle) {
        break;
      }
      seen = events[i];
    }
    var section = (seen || events[0]);
    if (section) {
      notesOfSection(block, section.getAttribute("data-section"));
    }
  }
  function notesOfSection(block, section) {
    var items = block.querySelectorAll("aside.notes li");
    var any = false;
    for (var i = 0; i < items.length; i++) {
      var same = items[i].getAttribute("data-section") === section;
      items[i].hidden = !same;
      items[i].classList.remove("current");
      any = any || (same && items[i].classList.contains("note"));
    }
    var none = block.querySelector("aside.notes .none");
    if (none) {
      none.hidden = any;
    }
  }
  window.addEventListener("scroll", function () {
    if (!looking) {
      looking = true;
      window.requestAnimationFrame(follow);
    }
  }, { passive: true });

  window.addEventListener("hashchange", fromHash);
  fromHash();
  if (!location.hash) {
    follow();
  }
})();
