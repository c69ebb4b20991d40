// What free text igny8 stores may contain. Text that shows something other than what it
// holds is refused: a name of three zero-width spaces looks empty in every table, and a
// right-to-left override reverses whatever follows it in each report and log that prints
// it. The joiners that Persian, Indic scripts and emoji sequences need are kept, but only
// where they join something.

// Control characters (newlines, NUL, terminal escapes) have their own message.
const CONTROL = /\p{Cc}/u;
// The explicit bidirectional formatting characters (UAX #9): marks, embeddings, overrides
// and isolates. U+061C, the Arabic letter mark, is one of them.
const DIRECTION = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;
const FORMAT = /\p{Cf}/u;
// Half of a UTF-16 pair: the driver would store U+FFFD in its place.
const SURROGATE = /\p{Cs}/u;

const ZWNJ = 0x200c;
const ZWJ = 0x200d;
/** Either side of a joiner in a word; marks count, as a virama precedes the joiner in Hindi. */
const LETTER = /^[\p{L}\p{M}]$/u;
/** What a ZWJ follows in an emoji sequence: an emoji, a skin tone, or the emoji presentation selector. */
const EMOJI_BEFORE_ZWJ = /^[\p{Extended_Pictographic}\p{Emoji_Modifier}\uFE0F]$/u;
const EMOJI = /^\p{Extended_Pictographic}$/u;

// Emoji tag sequences (UTS #51), the subdivision flags: a black flag, a subdivision code in
// tag letters and digits, a cancel tag. Tag characters anywhere else would carry hidden text.
const BLACK_FLAG = 0x1f3f4;
const CANCEL_TAG = 0xe007f;
const TAG_SPEC = /^[\u{E0030}-\u{E0039}\u{E0061}-\u{E007A}]$/u;
/** The longest subdivision code: a region of 3 digits and a suffix of 4. */
const MAX_TAG_SPEC = 7;

/**
 * A character a reader sees on its own: not space, not a control, format or ignorable
 * character (U+3164 HANGUL FILLER is a letter that shows nothing), not a combining mark
 * without a base, not the blank braille pattern.
 */
const VISIBLE = /[^\p{White_Space}\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}\p{Cs}\p{Mn}\p{Me}\u2800]/u;

function hex(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Indices of the tag characters that belong to a well-formed emoji tag sequence. */
function tagSequenceMembers(characters: string[]): Set<number> {
  const members = new Set<number>();
  characters.forEach((character, start) => {
    if (character.codePointAt(0) !== BLACK_FLAG) return;
    let end = start + 1;
    while (end < characters.length && TAG_SPEC.test(characters[end])) end += 1;
    const length = end - start - 1;
    if (length < 1 || length > MAX_TAG_SPEC || characters[end]?.codePointAt(0) !== CANCEL_TAG) return;
    for (let i = start + 1; i <= end; i += 1) members.add(i);
  });
  return members;
}

function joins(joiner: number, before: string | undefined, after: string | undefined): boolean {
  if (before === undefined || after === undefined) return false;
  if (LETTER.test(before) && LETTER.test(after)) return true;
  return joiner === ZWJ && EMOJI_BEFORE_ZWJ.test(before) && EMOJI.test(after);
}

/**
 * Why `value` cannot be stored as text, or undefined when it can. The message names the
 * offending code point and its position (counted in characters, from 1), never the value.
 */
export function textProblem(value: string): string | undefined {
  if (CONTROL.test(value)) return 'must not contain control characters';
  if (SURROGATE.test(value)) return 'must be valid Unicode text (it holds an unpaired surrogate)';
  const characters = [...value];
  const tags = tagSequenceMembers(characters);
  for (const [index, character] of characters.entries()) {
    const codePoint = character.codePointAt(0)!;
    const where = `${hex(codePoint)} at character ${index + 1}`;
    if (DIRECTION.test(character)) return `must not contain direction-changing characters (${where})`;
    if (codePoint === ZWNJ || codePoint === ZWJ) {
      if (!joins(codePoint, characters[index - 1], characters[index + 1])) {
        return `may hold a zero-width joiner or non-joiner only between letters or emoji (${where})`;
      }
    } else if (FORMAT.test(character) && !tags.has(index)) {
      return `must not contain invisible formatting characters (${where})`;
    }
  }
  if (!VISIBLE.test(value)) return 'must contain a visible character';
  return undefined;
}
