// Live pages. A page wraps what may change in an element with data-live, naming
//   data-live-url       a small JSON endpoint answering {"stamp": "..."},
//   data-live-stamp     the stamp the page was rendered with,
//   data-live-interval  how often to ask (ms),
//   data-live-announce  a sentence for screen readers, announced when it changes.
// When the stamp changes, the page is fetched again and the changed parts are swapped in place:
// no reload, and never under a person's hands. A part holding the focus, an edited field or an
// opened form is kept as it is (its neighbours still update) until the person leaves it.
(function () {
  "use strict";
  var root = document.querySelector("[data-live]");
  if (!root || !window.fetch || !window.DOMParser) {
    return;
  }
  var url = root.getAttribute("data-live-url");
  var stamp = root.getAttribute("data-live-stamp") || "";
  var interval = parseInt(root.getAttribute("data-live-interval"), 10) || 5000;
  var status = document.querySelector("[data-live-status]");
  var held = [];
  var failures = 0;
  var stopped = false;
  var timer = null;
  var note = null;

  function isField(el) {
    return el.matches("input, textarea, select, [contenteditable]");
  }

  function fieldEdited(field) {
    var type = (field.type || "").toLowerCase();
    if (type === "hidden" || type === "submit" || type === "button") {
      return false;
    }
    if (type === "checkbox" || type === "radio") {
      return field.checked !== field.defaultChecked;
    }
    if (field.tagName === "SELECT") {
      var options = Array.prototype.slice.call(field.options);
      if (!field.multiple && !options.some(function (option) { return option.defaultSelected; })) {
        return field.selectedIndex > 0; // no option marked: the first one is the default
      }
      return options.some(function (option) {
        return option.selected !== option.defaultSelected;
      });
    }
    return field.value !== field.defaultValue;
  }

  function edited(el) {
    if (isField(el)) {
      return fieldEdited(el);
    }
    return Array.prototype.some.call(el.querySelectorAll("input, textarea, select"), fieldEdited);
  }

  // Is the person using this part: focus inside it, a field they changed, a form they opened?
  function engaged(el) {
    if (!el.isConnected) {
      return false;
    }
    var active = document.activeElement;
    if (active && active !== document.body && el.contains(active)) {
      return true;
    }
    if (edited(el)) {
      return true;
    }
    var open = Array.prototype.slice.call(el.querySelectorAll("details[open]"));
    if (el.matches("details[open]")) {
      open.push(el);
    }
    return open.some(function (details) {
      return details.querySelector("form");
    });
  }

  // A stable name for each child, to pair the old and the new rendering of the same part: its id,
  // the heading it is labelled by, data-live-key, the one form it holds (a form's action names what
  // it does, e.g. one remediation task), else its tag and place. Never its class: a class changes
  // with the state (a task turning "done") while the part stays the same.
  function identity(el) {
    if (el.id) {
      return "#" + el.id;
    }
    if (el.getAttribute("aria-labelledby")) {
      return "@" + el.getAttribute("aria-labelledby");
    }
    if (el.getAttribute("data-live-key")) {
      return "k" + el.getAttribute("data-live-key");
    }
    var forms = el.matches("form") ? [el] : el.querySelectorAll("form");
    if (forms.length === 1 && forms[0].getAttribute("action")) {
      return "form:" + forms[0].getAttribute("action");
    }
    return el.tagName;
  }

  function keyed(children) {
    var seen = {};
    return Array.prototype.map.call(children, function (el) {
      var base = identity(el);
      seen[base] = (seen[base] || 0) + 1;
      return { key: base + "~" + seen[base], el: el };
    });
  }

  // Disclosures the person opened stay open in the new rendering.
  function keepOpen(oldEl, newEl) {
    if (!oldEl) {
      return;
    }
    var opened = {};
    var list = Array.prototype.slice.call(oldEl.querySelectorAll("details[open] > summary"));
    list.forEach(function (summary) {
      opened[summary.textContent.trim()] = true;
    });
    Array.prototype.forEach.call(newEl.querySelectorAll("details > summary"), function (summary) {
      if (opened[summary.textContent.trim()]) {
        summary.parentNode.setAttribute("open", "");
      }
    });
    if (oldEl.matches("details[open]") && newEl.matches("details")) {
      newEl.setAttribute("open", "");
    }
  }

  function patchChildren(oldParent, newParent) {
    var olds = keyed(oldParent.children);
    var news = keyed(newParent.children);
    var byKey = {};
    olds.forEach(function (pair) {
      byKey[pair.key] = pair.el;
    });
    var kept = [];
    var previous = null;
    news.forEach(function (pair) {
      var old = byKey[pair.key];
      var node;
      if (old && engaged(old)) {
        var descend =
          old.tagName === pair.el.tagName && old.tagName !== "FORM" && !isField(old) && old.children.length;
        if (descend) {
          if (old.className !== pair.el.className) {
            old.className = pair.el.className;
          }
          patchChildren(old, pair.el);
        } else {
          held.push(old);
        }
        node = old;
      } else {
        node = document.importNode(pair.el, true);
        keepOpen(old, node);
        if (old) {
          old.replaceWith(node);
        } else if (previous) {
          previous.after(node);
        } else {
          oldParent.prepend(node);
        }
      }
      kept.push(node);
      previous = node;
    });
    olds.forEach(function (pair) {
      if (kept.indexOf(pair.el) >= 0 || pair.el.parentNode !== oldParent) {
        return;
      }
      if (engaged(pair.el)) {
        held.push(pair.el); // gone from the new rendering, but in use: it goes when the person leaves it
      } else {
        pair.el.remove();
      }
    });
  }

  function showNote(text) {
    if (!note) {
      note = document.createElement("p");
      note.className = "live-note";
      note.setAttribute("role", "status");
      root.parentNode.insertBefore(note, root);
    }
    note.textContent = text;
    note.hidden = !text;
  }

  function announce(text) {
    if (status && text) {
      status.textContent = text;
    }
  }

  function refresh() {
    return fetch(window.location.href, {
      headers: { "X-Sluice-Live": "1", Accept: "text/html" },
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(function (response) {
        if (!response.ok || response.redirected) {
          throw new Error("page " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("[data-live]");
        if (!fresh) {
          return;
        }
        held = [];
        patchChildren(root, fresh);
        stamp = fresh.getAttribute("data-live-stamp") || stamp;
        root.setAttribute("data-live-stamp", stamp);
        var sentence = fresh.getAttribute("data-live-announce");
        var news = sentence && sentence !== root.getAttribute("data-live-announce") ? sentence : "";
        if (news) {
          root.setAttribute("data-live-announce", news);
          announce(news);
        }
        if (doc.title) {
          document.title = doc.title;
        }
        showNote(
          held.length
            ? (news ? news.charAt(0).toUpperCase() + news.slice(1) + " " : "") +
                "The page changed while you were using it: what you typed or opened is kept as it was " +
                "(it may no longer apply) and updates when you leave it."
            : ""
        );
      });
  }

  function schedule(delay) {
    window.clearTimeout(timer);
    if (!stopped) {
      timer = window.setTimeout(poll, delay);
    }
  }

  function poll() {
    if (document.hidden) {
      schedule(interval);
      return;
    }
    if (held.length && !held.some(engaged)) {
      // The person left the part that was kept: bring it up to date now.
      refresh().then(function () {
        schedule(interval);
      }, function () {
        schedule(interval);
      });
      return;
    }
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 404 || response.status === 403 || response.redirected) {
          stopped = true; // gone, or logged out: nothing more to follow
          return null;
        }
        return response.ok ? response.json() : Promise.reject(new Error("poll " + response.status));
      })
      .then(function (answer) {
        if (answer && answer.stamp && answer.stamp !== stamp) {
          return refresh();
        }
        return null;
      })
      .then(
        function () {
          failures = 0;
          schedule(interval);
        },
        function () {
          failures += 1;
          schedule(Math.min(interval * Math.pow(2, failures), 60000));
        }
      );
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      schedule(0);
    }
  });
  schedule(interval);
})();
