// The release's fields, read from the API's own OpenAPI document: which categories exist,
// which fields each takes (its details), and every limit, so the desk and the API cannot drift.

export function lookup(doc, ref) {
  return ref
    .replace(/^#\//, "")
    .split("/")
    .reduce((node, part) => (node ? node[part.replaceAll("~1", "/").replaceAll("~0", "~")] : undefined), doc);
}

export function resolve(doc, schema) {
  let current = schema || {};
  for (let hops = 0; current.$ref && hops < 20; hops += 1) {
    const { $ref, ...rest } = current;
    current = { ...lookup(doc, $ref), ...rest };
  }
  return current;
}

// A field's schema with refs resolved and "X or null" flattened to X (marked nullable).
export function normalise(doc, schema) {
  const outer = resolve(doc, schema);
  if (!Array.isArray(outer.anyOf)) return outer;
  const options = outer.anyOf.map((option) => resolve(doc, option)).filter((o) => o.type !== "null");
  if (options.length !== 1) return outer;
  const { anyOf, ...rest } = outer;
  return { ...options[0], ...rest, nullable: true };
}

// The submission schemas by category, in the API's order: [{ category, schema, description }].
export function categories(doc) {
  const operation = doc.paths?.["/releases"]?.post;
  const body = operation?.requestBody?.content?.["application/json"]?.schema;
  const variants = resolve(doc, body).oneOf || [];
  return variants.map((variant) => {
    const schema = resolve(doc, variant);
    return { category: schema.properties.category.const, schema, description: schema.description || "" };
  });
}

const number = (value) => Number(value).toLocaleString("en");

// The limits of a field, as a person reads them: "10–200 characters", "at most 10 links".
export function limitText(spec, noun = "items") {
  const parts = [];
  if (spec.type === "string" && !spec.enum && !spec.format) {
    const min = spec.minLength ?? 0;
    const max = spec.maxLength;
    if (max !== undefined && min > 1) parts.push(`${number(min)}–${number(max)} characters`);
    else if (max !== undefined) parts.push(`at most ${number(max)} characters`);
    else if (min > 1) parts.push(`at least ${number(min)} characters`);
  }
  if (spec.type === "array") {
    const min = spec.minItems ?? 0;
    const max = spec.maxItems;
    if (max !== undefined && min > 0) parts.push(`${number(min)}–${number(max)} ${noun}`);
    else if (max !== undefined) parts.push(`at most ${number(max)} ${noun}`);
    else if (min > 0) parts.push(`at least ${number(min)} ${noun}`);
    const item = spec.items || {};
    if (item.type === "string" && item.maxLength !== undefined) {
      parts.push(`each at most ${number(item.maxLength)} characters`);
    }
  }
  return parts.join(", ");
}
