/**
 * The pieces of pytest's --junitxml that are about text rather than test results: its
 * `bin_xml_escape`, `mangle_test_address`, Python's `ElementTree.tostring` serialisation, its
 * `f"{x:.3f}"` and `datetime.isoformat()`. Each one copies the Python behaviour byte for byte.
 */

/**
 * pytest's `bin_xml_escape`: characters XML cannot carry become a visible `#xAB` (not an XML
 * escape). pytest's class ends in `\u10000-\u10ffff`, which Python reads as `\u1000` + `0-\u10ff`:
 * so characters beyond the BMP (emoji) are replaced, and DEL, which pytest means to replace, is
 * not (`0-\u10ff` lets it through). Lone surrogates are replaced.
 */
const ILLEGAL_XML = /[^\t\n\r\x20-\ud7ff\ue000-\ufffd]/gu;

export function binXmlEscape(text: string): string {
  return text.replace(ILLEGAL_XML, (char) => {
    const code = char.codePointAt(0)!;
    return `#x${code.toString(16).toUpperCase().padStart(code <= 0xff ? 2 : 4, '0')}`;
  });
}

/** pytest's `mangle_test_address`: `dir/test_x.py::Class::test[p]` to `['dir.test_x', 'Class', 'test[p]']`. */
export function mangleTestAddress(address: string): string[] {
  const bracket = address.indexOf('[');
  const path = bracket < 0 ? address : address.slice(0, bracket);
  const params = bracket < 0 ? '' : address.slice(bracket);
  const names = path.split('::');
  // Python's `\.py$` also matches before one trailing newline.
  names[0] = names[0]!.replaceAll('/', '.').replace(/\.py(?=\n?$)/, '');
  names[names.length - 1] += params;
  return names;
}

/** An element as ElementTree builds it: attributes in insertion order, optional text, children. */
export interface XmlElement {
  tag: string;
  attrs: Array<[string, string]>;
  text: string | null;
  children: XmlNode[];
}

/** XML that pytest already rendered (a testcase, a testcase's children): written as it is. */
export interface RawXml {
  raw: string;
}

export type XmlNode = XmlElement | RawXml;

export function element(
  tag: string,
  attrs: Array<[string, string]>,
  text: string | null = null,
  children: XmlNode[] = [],
): XmlElement {
  return { tag, attrs, text, children };
}

export function raw(xml: string): RawXml {
  return { raw: xml };
}

/** ElementTree's `_escape_cdata`. */
function escapeText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** ElementTree's `_escape_attrib` (Python 3.9+). */
function escapeAttribute(text: string): string {
  return escapeText(text)
    .replaceAll('"', '&quot;')
    .replaceAll('\r', '&#13;')
    .replaceAll('\n', '&#10;')
    .replaceAll('\t', '&#09;');
}

/** `ET.tostring(element, encoding="unicode")`: no declaration, `<tag />` when empty. */
export function serialize(node: XmlNode): string {
  if ('raw' in node) return node.raw;
  let out = `<${node.tag}`;
  for (const [name, value] of node.attrs) out += ` ${name}="${escapeAttribute(value)}"`;
  if (!node.text && node.children.every((child) => 'raw' in child && child.raw === '')) return `${out} />`;
  out += '>';
  if (node.text) out += escapeText(node.text);
  for (const child of node.children) out += serialize(child);
  return `${out}</${node.tag}>`;
}

/**
 * Python's `f"{x:.3f}"`. JavaScript's toFixed agrees except on exact binary ties (x = k/16 with k
 * odd, such as 0.0625), where Python rounds half to even and toFixed rounds up.
 */
export function formatSeconds(x: number): string {
  // The only exact ties at 3 decimals are odd multiples of 1/16 (x * 16 is exact in binary).
  const sixteenths = x * 16;
  if (Number.isInteger(sixteenths) && sixteenths % 2 !== 0 && Math.abs(sixteenths) < 2 ** 46) {
    const low = Math.floor(x * 1000);
    const even = low % 2 === 0 ? low : low + 1;
    return (even / 1000).toFixed(3);
  }
  return x.toFixed(3);
}

/** An instant, and the offset from UTC of the time zone it is shown in (minutes east), as recorded. */
export interface LocalTime {
  epochMs: number;
  utcOffsetMinutes: number;
}

/**
 * `datetime.fromtimestamp(t, timezone.utc).astimezone().isoformat()`: local time with its offset;
 * without it (`naive`), pytest 7's `datetime.fromtimestamp(t).isoformat()`. The offset is the
 * recorded one, never this process's time zone, so a replay elsewhere writes the same text.
 */
export function isoTimestamp(time: LocalTime, naive = false): string {
  const pad = (value: number, width = 2): string => String(value).padStart(width, '0');
  // The local wall time, read with the UTC getters so this process's own zone plays no part.
  const date = new Date(time.epochMs + time.utcOffsetMinutes * 60_000);
  const day = `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
  const clock = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  // Python omits the fraction when the microseconds are zero; a Date only has milliseconds.
  const fraction = date.getUTCMilliseconds() === 0 ? '' : `.${pad(date.getUTCMilliseconds() * 1000, 6)}`;
  if (naive) return `${day}T${clock}${fraction}`;
  const offset = time.utcOffsetMinutes;
  const sign = offset < 0 ? '-' : '+';
  const zone = `${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return `${day}T${clock}${fraction}${zone}`;
}
