// Building DOM from data without ever parsing it as HTML: text always goes in as text nodes.

/**
 * h("a", {href: "#/x", class: "link"}, "text", childNode) -> an element.
 * Attributes are set with setAttribute (never innerHTML); `text` sets textContent; `on<event>` adds a listener.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "text") el.textContent = String(value);
    else if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "value") el.value = value;
    else if (name === "checked") el.checked = Boolean(value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** A date as "2026-11-23 21:10:58 UTC" in a <time>, with how long ago / how far ahead. */
export function when(iso) {
  if (!iso) return h("span", { class: "muted" }, "—");
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return h("span", {}, String(iso));
  const text = date.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  return h("time", { datetime: date.toISOString(), title: iso }, text, h("span", { class: "relative" }, relative(date)));
}

export function relative(date, now = Date.now()) {
  const seconds = Math.round((date.getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  const units = [
    [86400 * 365, "y"],
    [86400, "d"],
    [3600, "h"],
    [60, "min"],
    [1, "s"],
  ];
  if (abs < 5) return "now";
  const [size, unit] = units.find(([s]) => abs >= s);
  const n = Math.floor(abs / size);
  return seconds > 0 ? `in ${n} ${unit}` : `${n} ${unit} ago`;
}
