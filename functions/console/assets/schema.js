// A small JSON Schema check for the complete form: the keywords a token's schema is most likely to use.
// Anything it does not know it ignores (the server has the last word); it never claims more than it checked.

const KNOWN = new Set([
  "type", "required", "properties", "additionalProperties", "items", "enum", "const",
  "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "$schema", "title", "description",
]);

function typeOf(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value; // string, boolean, object
}

function matchesType(value, type) {
  const actual = typeOf(value);
  return actual === type || (type === "number" && actual === "integer");
}

/** Problems of `value` against `schema`, as "data.field: problem" strings; [] when it conforms. */
export function validate(schema, value, path = "data") {
  if (schema === true || schema === undefined || schema === null) return [];
  if (schema === false) return [`${path}: no value is allowed here`];
  if (typeof schema !== "object") return [];
  const problems = [];
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => matchesType(value, t))) {
      return [`${path}: must be ${types.join(" or ")}, not ${typeOf(value)}`];
    }
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((v) => JSON.stringify(v) === JSON.stringify(value))) {
    problems.push(`${path}: must be one of ${schema.enum.map((v) => JSON.stringify(v)).join(", ")}`);
  }
  if ("const" in schema && JSON.stringify(schema.const) !== JSON.stringify(value)) {
    problems.push(`${path}: must be ${JSON.stringify(schema.const)}`);
  }
  if (typeof value === "string") {
    if (schema.minLength !== undefined && value.length < schema.minLength) problems.push(`${path}: at least ${schema.minLength} characters`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) problems.push(`${path}: at most ${schema.maxLength} characters`);
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) problems.push(`${path}: at least ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) problems.push(`${path}: at most ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) problems.push(`${path}: at least ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) problems.push(`${path}: at most ${schema.maxItems} items`);
    if (schema.items && typeof schema.items === "object") {
      value.forEach((item, i) => problems.push(...validate(schema.items, item, `${path}[${i}]`)));
    }
  }
  if (typeOf(value) === "object") {
    for (const name of Array.isArray(schema.required) ? schema.required : []) {
      if (!(name in value)) problems.push(`${path}.${name}: is required`);
    }
    const properties = schema.properties && typeof schema.properties === "object" ? schema.properties : {};
    for (const [name, inner] of Object.entries(value)) {
      if (name in properties) problems.push(...validate(properties[name], inner, `${path}.${name}`));
      else if (schema.additionalProperties === false) problems.push(`${path}.${name}: is not allowed`);
      else if (typeof schema.additionalProperties === "object") {
        problems.push(...validate(schema.additionalProperties, inner, `${path}.${name}`));
      }
    }
  }
  return problems;
}

/** Keywords of `schema` (at any depth) this checker does not evaluate, so the form can say so. */
export function unchecked(schema, found = new Set()) {
  if (!schema || typeof schema !== "object") return found;
  for (const [keyword, inner] of Object.entries(schema)) {
    if (!KNOWN.has(keyword)) found.add(keyword);
    if (keyword === "properties" && inner && typeof inner === "object") {
      Object.values(inner).forEach((s) => unchecked(s, found));
    } else if (keyword === "items" || keyword === "additionalProperties") unchecked(inner, found);
  }
  return found;
}

/** "Not valid JSON: <reason> (line L, column C)" from a JSON.parse error on `text`. */
export function describeJsonError(error, text) {
  const message = String(error?.message ?? error);
  const at = /position (\d+)/.exec(message);
  if (!at || /line \d+/.test(message)) return message;
  const before = text.slice(0, Number(at[1]));
  const line = before.split("\n").length;
  const column = before.length - before.lastIndexOf("\n");
  return `${message} (line ${line}, column ${column})`;
}
