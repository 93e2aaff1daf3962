// Search-as-you-type pickers (no inline script: CSP). An <input data-picker="<JSON url>"> inside a
// plain GET search form (which works without JavaScript) gets a list of matches as one types:
// the url answers {"results": [{"id", "label", "role"}], "more": bool}.
// - data-picker-into="<container id>" data-picker-name="<field>": a pick becomes a ticked
//   checkbox named <field> in that container (several picks, posted by the container's form);
// - data-picker-fill="<input id>": a pick writes its id into that input;
// - neither: a pick writes its label into the search input itself (a filter by name).
// A form with data-role-note="<element id>" says when a ticked choice changes someone's role.
(() => {
  "use strict";
  const WAIT_MS = 150;

  function setUp(input, index) {
    const listbox = document.createElement("ul");
    listbox.className = "picker-results";
    listbox.id = `picker-results-${index}`;
    listbox.setAttribute("role", "listbox");
    listbox.hidden = true;
    const anchor = input.closest(".picker-row") || input;
    anchor.parentElement.classList.add("picker-host");
    anchor.insertAdjacentElement("afterend", listbox);
    const status = document.createElement("p");
    status.className = "sr-only";
    status.setAttribute("aria-live", "polite");
    listbox.insertAdjacentElement("afterend", status);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", listbox.id);
    input.setAttribute("aria-expanded", "false");
    let results = [], active = -1, timer = null, asked = 0;

    function close() {
      clearTimeout(timer);
      asked += 1; // a search still on its way shows nothing
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(next) {
      const options = listbox.querySelectorAll("[role=option]");
      if (!options.length) return;
      active = (next + options.length) % options.length;
      options.forEach((option, i) => option.setAttribute("aria-selected", String(i === active)));
      input.setAttribute("aria-activedescendant", options[active].id);
      options[active].scrollIntoView({ block: "nearest" });
    }

    function show(body) {
      results = body.results;
      listbox.replaceChildren();
      results.forEach((result, i) => {
        const option = document.createElement("li");
        option.id = `${listbox.id}-${i}`;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.textContent = result.label;
        if (result.role) {
          const role = document.createElement("span");
          role.className = "muted small";
          role.textContent = ` ${result.role} now`;
          option.append(role);
        }
        option.addEventListener("mousedown", (event) => { event.preventDefault(); pick(result); });
        listbox.append(option);
      });
      if (body.more) {
        const more = document.createElement("li");
        more.className = "muted small";
        more.textContent = "More match: type more to narrow them.";
        listbox.append(more);
      }
      if (!results.length) {
        const none = document.createElement("li");
        none.className = "muted small";
        none.textContent = "No match.";
        listbox.append(none);
      }
      status.textContent = `${results.length}${body.more ? "+" : ""} matches`;
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    }

    function search() {
      const url = new URL(input.dataset.picker, window.location.href);
      url.searchParams.set("q", input.value.trim());
      const ticket = ++asked;
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
        .then((body) => { if (ticket === asked && document.activeElement === input) show(body); })
        .catch(() => close());
    }

    function pick(result) {
      if (input.dataset.pickerInto) {
        tick(document.getElementById(input.dataset.pickerInto), input.dataset.pickerName, result);
        input.value = "";
      } else if (input.dataset.pickerFill) {
        const target = document.getElementById(input.dataset.pickerFill);
        target.value = result.id;
        input.value = result.label;
        target.dispatchEvent(new Event("change", { bubbles: true }));
      } else {
        input.value = result.label;
      }
      status.textContent = `${result.label} chosen`;
      close();
      input.focus();
    }

    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(search, WAIT_MS); });
    input.addEventListener("focus", () => { if (!input.dataset.pickerInto || input.value) search(); });
    input.addEventListener("blur", () => setTimeout(close, 100));
    input.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown") { event.preventDefault(); listbox.hidden ? search() : highlight(active + 1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight(active - 1); }
      else if (event.key === "Escape") close();
      else if (event.key === "Enter" && !listbox.hidden && active >= 0) {
        event.preventDefault();
        pick(results[active]);
      }
    });
  }

  function tick(container, name, result) {
    container.querySelectorAll("[data-picker-empty]").forEach((hint) => hint.remove());
    let box = [...container.querySelectorAll("input[type=checkbox]")].find((b) => b.value === result.id);
    if (!box) {
      const label = document.createElement("label");
      label.className = "choice";
      box = document.createElement("input");
      box.type = "checkbox";
      box.name = name;
      box.value = result.id;
      box.dataset.role = result.role || "";
      box.dataset.label = result.label;
      label.append(box, ` ${result.label}`);
      if (result.role) {
        const role = document.createElement("span");
        role.className = `badge ${result.role === "manager" ? "role" : "off"}`;
        role.textContent = `${result.role} now`;
        label.append(" ", role);
      }
      container.prepend(label);
    }
    box.checked = true;
    box.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function roleNote(form) {
    const note = document.getElementById(form.dataset.roleNote);
    const select = form.querySelector("select[name=role]");
    const update = () => {
      const changed = [...form.querySelectorAll("input[type=checkbox]:checked")]
        .filter((box) => box.dataset.role && box.dataset.role !== select.value)
        .map((box) => `${box.dataset.label} (now ${box.dataset.role})`);
      note.hidden = !changed.length;
      note.textContent = changed.length
        ? `This changes the role of ${form.dataset.person} in ${changed.join(", ")} to ${select.value}.`
        : "";
    };
    form.addEventListener("change", update);
    update();
  }

  document.querySelectorAll("input[data-picker]").forEach(setUp);
  document.querySelectorAll("form[data-role-note]").forEach(roleNote);
})();
