// The few behaviours Vouch's pages have, bound by data attributes so that no page carries
// inline script (the content security policy allows this file and nothing else):
//   data-copy="#id"      a button that copies the value of the element #id
//   data-select          a field that selects its text when clicked
//   data-confirm="text"  a form that asks before it is sent
//   data-file-into="id"  a file input whose chosen file's text fills the textarea #id
(function () {
  'use strict';
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
    var field = e.target.closest('[data-select]');
    if (field && field.select) {
      field.select();
    }
  });
  document.addEventListener('submit', function (e) {
    var question = e.target.getAttribute('data-confirm');
    if (question && !window.confirm(question)) {
      e.preventDefault();
    }
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
