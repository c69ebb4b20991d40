// A strict little XML reader for the junit output: elements, attributes, text and the
// declaration; anything malformed (unbalanced tags, bad entities, stray '<' or '&') throws.
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string): string {
  return text.replace(/&([a-z]+|#\d+|#x[0-9a-f]+);|&/gi, (match, entity: string | undefined) => {
    if (!entity) throw new Error('a bare & in text');
    if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number(entity.slice(1)));
    if (!(entity in ENTITIES)) throw new Error(`unknown entity &${entity};`);
    return ENTITIES[entity];
  });
}

export function parseXml(source: string): XmlElement {
  let rest = source.replace(/^<\?xml[^?]*\?>\s*/, '');
  const root: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  const NAME = '[A-Za-z_][\\w.:-]*';
  const open = new RegExp(`^<(${NAME})((?:\\s+${NAME}="[^"<]*")*)\\s*(/?)>`);
  while (rest.length > 0) {
    const top = stack[stack.length - 1];
    if (rest.startsWith('</')) {
      const match = new RegExp(`^</(${NAME})\\s*>`).exec(rest);
      if (!match || match[1] !== top.name) throw new Error(`unbalanced </${match?.[1] ?? '?'}> inside <${top.name}>`);
      stack.pop();
      rest = rest.slice(match[0].length);
    } else if (rest.startsWith('<')) {
      const match = open.exec(rest);
      if (!match) throw new Error(`malformed tag near ${JSON.stringify(rest.slice(0, 40))}`);
      const attributes: Record<string, string> = {};
      for (const [, key, value] of match[2].matchAll(new RegExp(`(${NAME})="([^"]*)"`, 'g'))) {
        if (key in attributes) throw new Error(`duplicate attribute ${key}`);
        attributes[key] = decode(value);
      }
      const element: XmlElement = { name: match[1], attributes, children: [], text: '' };
      top.children.push(element);
      if (!match[3]) stack.push(element);
      rest = rest.slice(match[0].length);
    } else {
      const end = rest.indexOf('<');
      const text = end < 0 ? rest : rest.slice(0, end);
      if (stack.length === 1 && text.trim()) throw new Error('text outside the root element');
      top.text += decode(text);
      rest = end < 0 ? '' : rest.slice(end);
    }
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1].name}>`);
  if (root.children.length !== 1) throw new Error('exactly one root element expected');
  return root.children[0];
}
