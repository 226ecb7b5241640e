// The few behaviours Vouch's pages have, bound by data attributes so that no page carries
// inline script (the content security policy allows this file and nothing else):
//   data-copy="#id"      a button that copies the value of the element #id
//   data-select          a field that selects its text when clicked
//   data-confirm="text"  a form (or its submit button) that asks in a dialog before it is sent
//   data-file-into="id"  a file input whose chosen file's text fills the textarea #id
//   data-menu            the button that opens and closes the console's navigation
//   data-filter="sel"    a search field that hides the elements `sel` whose data-search text
//                        does not hold every word typed (and groups left empty)
// and, on every page, tables whose cells are labelled by their column for narrow screens.
(function () {
  'use strict';
  document.documentElement.classList.add('js');
  // On a narrow screen each table row is a card: every cell shows its column's name.
  function labelTables() {
    var tables = document.querySelectorAll('table');
    for (var t = 0; t < tables.length; t++) {
      var table = tables[t];
      var heads = table.querySelectorAll('thead th');
      if (!heads.length) {
        continue;
      }
      var names = [];
      for (var h = 0; h < heads.length; h++) {
        // The label is the column's name without its sort arrow.
        var head = heads[h].cloneNode(true);
        var hidden = head.querySelectorAll('[aria-hidden]');
        for (var x = 0; x < hidden.length; x++) {
          hidden[x].remove();
        }
        names.push(head.textContent.trim());
      }
      var rows = table.querySelectorAll('tbody tr');
      for (var r = 0; r < rows.length; r++) {
        var cells = rows[r].children;
        var column = 0;
        for (var c = 0; c < cells.length; c++) {
          var name = names[column] || '';
          if (name && cells[c].colSpan === 1) {
            cells[c].setAttribute('data-label', name);
            // The content in one box beside its label, so a long label never runs into it.
            var box = document.createElement('div');
            box.className = 'cell';
            while (cells[c].firstChild) {
              box.appendChild(cells[c].firstChild);
            }
            cells[c].appendChild(box);
          } else {
            cells[c].classList.add('no-label');
          }
          column += cells[c].colSpan || 1;
        }
      }
      table.classList.add('cards');
      // A table that sorts by its headers keeps them as a "Sort by" row above the cards.
      if (table.querySelector('thead th a')) {
        table.classList.add('sortable');
      }
    }
  }
  // Times arrive as <time datetime="…" data-when> in UTC; show them in the reader's time zone
  // (the staff user's setting, data-tz, else the browser's), as "3 min ago" within a day, with
  // the exact moment on hover.
  function showTimes() {
    var holder = document.querySelector('[data-tz]');
    var zone = holder ? holder.getAttribute('data-tz') : undefined;
    var exact, day;
    try {
      exact = new Intl.DateTimeFormat('en-GB', { timeZone: zone, year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });
      day = new Intl.DateTimeFormat('en-GB', { timeZone: zone, year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' });
    } catch (e) {
      return;
    }
    var now = Date.now();
    var times = document.querySelectorAll('time[data-when]');
    for (var i = 0; i < times.length; i++) {
      var at = new Date(times[i].getAttribute('datetime'));
      if (isNaN(at.getTime())) {
        continue;
      }
      var seconds = Math.round((now - at.getTime()) / 1000);
      var text = day.format(at);
      if (seconds >= 0 && seconds < 60) {
        text = 'just now';
      } else if (seconds >= 60 && seconds < 3600) {
        text = Math.floor(seconds / 60) + ' min ago';
      } else if (seconds >= 3600 && seconds < 86400) {
        var hours = Math.floor(seconds / 3600);
        text = hours + (hours === 1 ? ' hour ago' : ' hours ago');
      }
      times[i].textContent = text;
      times[i].title = exact.format(at);
    }
  }
  // A link to a closed <details> (the API reference's endpoints) opens it.
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id && document.getElementById(id);
    if (target && target.tagName === 'DETAILS') {
      target.open = true;
    }
  }
  window.addEventListener('hashchange', openTarget);
  document.addEventListener('input', function (e) {
    var selector = e.target.getAttribute && e.target.getAttribute('data-filter');
    if (!selector) {
      return;
    }
    var words = e.target.value.toLowerCase().split(/\s+/).filter(Boolean);
    var items = document.querySelectorAll(selector);
    for (var i = 0; i < items.length; i++) {
      var text = items[i].getAttribute('data-search').toLowerCase();
      items[i].hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
    }
    var groups = document.querySelectorAll('[data-search-group]');
    for (var g = 0; g < groups.length; g++) {
      groups[g].hidden = !groups[g].querySelector(selector + ':not([hidden])');
    }
  });
  // Tabs scroll sideways on a narrow screen: bring the current one into view.
  function showCurrentTab() {
    var on = document.querySelector('.tabs a.on');
    if (on && on.parentNode.scrollWidth > on.parentNode.clientWidth) {
      on.parentNode.scrollLeft = on.offsetLeft - (on.parentNode.clientWidth - on.offsetWidth) / 2;
    }
  }
  function ready() {
    labelTables();
    showTimes();
    openTarget();
    showCurrentTab();
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', ready);
  } else {
    ready();
  }
  document.addEventListener('click', function (e) {
    var copy = e.target.closest('[data-copy]');
    if (copy) {
      var source = document.querySelector(copy.getAttribute('data-copy'));
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.value).then(function () {
          copy.textContent = 'Copied';
        });
      }
    }
    var menu = e.target.closest('[data-menu]');
    if (menu) {
      var header = menu.closest('header');
      var open = header.classList.toggle('open');
      menu.setAttribute('aria-expanded', open ? 'true' : 'false');
    }
    var field = e.target.closest('[data-select]');
    if (field && field.select) {
      field.select();
    }
  });
  // A form (or the button that sends it) with data-confirm asks first, in a dialog that says
  // what will happen; its confirm button repeats the action's own words.
  var confirmed = null;
  function confirmDialog() {
    var dialog = document.getElementById('vouch-confirm');
    if (dialog) {
      return dialog;
    }
    dialog = document.createElement('dialog');
    dialog.id = 'vouch-confirm';
    dialog.setAttribute('aria-labelledby', 'vouch-confirm-title');
    dialog.setAttribute('aria-describedby', 'vouch-confirm-text');
    dialog.innerHTML = '<form method="dialog"><h2 id="vouch-confirm-title">Please confirm</h2>' +
      '<p id="vouch-confirm-text"></p><div class="actions">' +
      '<button type="submit" value="ok" id="vouch-confirm-ok"></button>' +
      '<button type="submit" value="cancel" class="secondary" id="vouch-confirm-cancel">Cancel</button>' +
      '</div></form>';
    document.body.appendChild(dialog);
    return dialog;
  }
  document.addEventListener('submit', function (e) {
    var form = e.target;
    var submitter = e.submitter || null;
    var question = (submitter && submitter.getAttribute('data-confirm')) || form.getAttribute('data-confirm');
    if (!question || form === confirmed || form.getAttribute('method') === 'dialog') {
      return;
    }
    e.preventDefault();
    if (typeof HTMLDialogElement === 'undefined') {
      if (window.confirm(question)) {
        confirmed = form;
        form.requestSubmit(submitter);
        confirmed = null;
      }
      return;
    }
    var dialog = confirmDialog();
    dialog.querySelector('#vouch-confirm-text').textContent = question;
    var ok = dialog.querySelector('#vouch-confirm-ok');
    ok.textContent = (submitter && submitter.textContent.trim()) || 'Confirm';
    ok.className = submitter && submitter.classList.contains('danger') ? 'danger' : '';
    dialog.returnValue = '';
    dialog.onclose = function () {
      if (dialog.returnValue === 'ok') {
        confirmed = form;
        form.requestSubmit(submitter);
        confirmed = null;
      }
    };
    dialog.showModal();
    dialog.querySelector('#vouch-confirm-cancel').focus();
  }, true);
  document.addEventListener('change', function (e) {
    var target = e.target.getAttribute('data-file-into');
    var file = e.target.files && e.target.files[0];
    if (target && file) {
      file.text().then(function (text) {
        var area = document.getElementById(target);
        if (area) {
          area.value = text;
        }
      });
    }
  });
})();
