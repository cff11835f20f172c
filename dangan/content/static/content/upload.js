// The record's files: an upload queue (drag and drop, reorder, progress bar) and drag-to-reorder
// of the pages already kept. Plain JavaScript, no inline handlers (a strict CSP comes later);
// every text shown comes from the template's data-msg-* attributes, already translated.
(function () {
  "use strict";

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function button(text, label, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.title = label;
    b.setAttribute("aria-label", label);
    b.addEventListener("click", onClick);
    return b;
  }

  function formatSize(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1048576) return (bytes / 1024).toFixed(1) + " KB";
    if (bytes < 1073741824) return (bytes / 1048576).toFixed(1) + " MB";
    return (bytes / 1073741824).toFixed(2) + " GB";
  }

  // Drag one child of `list` over the others to move it; `done` runs after a drop.
  function makeSortable(list, itemSelector, done) {
    var dragged = null;
    list.addEventListener("dragstart", function (event) {
      dragged = event.target.closest(itemSelector);
      if (!dragged) return;
      dragged.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", "");
    });
    list.addEventListener("dragover", function (event) {
      if (!dragged) return;
      event.preventDefault();
      var over = event.target.closest(itemSelector);
      if (!over || over === dragged || over.parentNode !== dragged.parentNode) return;
      var box = over.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      over.parentNode.insertBefore(dragged, after ? over.nextSibling : over);
    });
    list.addEventListener("drop", function (event) {
      if (dragged) event.preventDefault();
    });
    list.addEventListener("dragend", function () {
      if (!dragged) return;
      dragged.classList.remove("dragging");
      dragged = null;
      done();
    });
  }

  function setUpUpload(form) {
    var msg = form.dataset;
    var queue = form.querySelector("[data-queue]");
    var input = form.querySelector("[data-file-input]");
    var zone = form.querySelector("[data-dropzone]");
    var progress = form.querySelector("[data-progress]");
    var status = form.querySelector("[data-status]");
    var errors = form.querySelector("[data-errors]");
    var submit = form.querySelector("[data-upload-button]");
    var files = [];

    function render() {
      queue.textContent = "";
      files.forEach(function (file, index) {
        var li = document.createElement("li");
        li.draggable = true;
        li.dataset.index = String(index);
        var name = document.createElement("span");
        name.className = "name";
        name.textContent = file.name + " (" + formatSize(file.size) + ")";
        li.appendChild(name);
        var up = button("↑", msg.msgUp, function () { move(index, -1); });
        up.disabled = index === 0;
        var down = button("↓", msg.msgDown, function () { move(index, 1); });
        down.disabled = index === files.length - 1;
        li.appendChild(up);
        li.appendChild(down);
        li.appendChild(button("✕", msg.msgRemove, function () { files.splice(index, 1); render(); }));
        queue.appendChild(li);
      });
    }

    function move(index, offset) {
      var target = index + offset;
      if (target < 0 || target >= files.length) return;
      files.splice(target, 0, files.splice(index, 1)[0]);
      render();
    }

    function add(list) {
      for (var i = 0; i < list.length; i++) files.push(list[i]);
      errors.textContent = "";
      status.textContent = "";
      render();
    }

    makeSortable(queue, "li", function () {
      var reordered = Array.prototype.map.call(queue.children, function (li) {
        return files[Number(li.dataset.index)];
      });
      files = reordered;
      render();
    });

    input.addEventListener("change", function () {
      add(input.files);
      input.value = "";
    });
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        if (!event.dataTransfer || Array.prototype.indexOf.call(event.dataTransfer.types, "Files") < 0) return;
        event.preventDefault();
        zone.classList.add("over");
      });
    });
    zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
    zone.addEventListener("drop", function (event) {
      if (!event.dataTransfer || !event.dataTransfer.files.length) return;
      event.preventDefault();
      zone.classList.remove("over");
      add(event.dataTransfer.files);
    });

    function showErrors(texts) {
      errors.textContent = "";
      texts.forEach(function (text) {
        var li = document.createElement("li");
        li.textContent = text;
        errors.appendChild(li);
      });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!files.length) { showErrors([msg.msgEmpty]); return; }
      var data = new FormData();
      data.append("csrfmiddlewaretoken", csrfToken(form));
      files.forEach(function (file) { data.append("files", file, file.name); });
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRFToken", csrfToken(form));
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) progress.value = Math.round((e.loaded / e.total) * 100);
      });
      xhr.addEventListener("load", function () {
        submit.disabled = false;
        var answer = {};
        try { answer = JSON.parse(xhr.responseText); } catch (ignored) { answer = {}; }
        if (xhr.status === 201) {
          progress.value = 100;
          status.textContent = msg.msgDone;
          files = [];
          render();
          window.location.reload();
        } else {
          progress.hidden = true;
          status.textContent = msg.msgFailed;
          showErrors(answer.errors || []);
        }
      });
      xhr.addEventListener("error", function () {
        submit.disabled = false;
        progress.hidden = true;
        status.textContent = msg.msgFailed;
      });
      progress.hidden = false;
      progress.value = 0;
      status.textContent = msg.msgUploading;
      errors.textContent = "";
      submit.disabled = true;
      xhr.send(data);
    });
  }

  function setUpPageList(tbody, form) {
    var status = form ? form.querySelector("[data-status]") : null;
    makeSortable(tbody, "tr", function () {
      var rows = Array.prototype.slice.call(tbody.querySelectorAll("tr[data-page-id]"));
      var order = rows.map(function (row) { return row.dataset.pageId; }).join(",");
      var data = new FormData();
      data.append("order", order);
      var token = document.querySelector("input[name=csrfmiddlewaretoken]");
      fetch(tbody.dataset.orderUrl, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRFToken": token ? token.value : "" }
      }).then(function (response) {
        if (!response.ok) { window.location.reload(); return; }
        rows.forEach(function (row, index) {
          row.querySelector(".position").textContent = String(index + 1);
          var up = row.querySelector("button[value=up]");
          var down = row.querySelector("button[value=down]");
          if (up) up.disabled = index === 0;
          if (down) down.disabled = index === rows.length - 1;
        });
        if (status && form) status.textContent = form.dataset.msgOrderSaved;
      });
    });
  }

  document.querySelectorAll(".record-files").forEach(function (section) {
    var form = section.querySelector("form[data-upload]");
    if (form) setUpUpload(form);
    var tbody = section.querySelector("[data-page-list]");
    if (tbody) setUpPageList(tbody, form);
  });
})();
