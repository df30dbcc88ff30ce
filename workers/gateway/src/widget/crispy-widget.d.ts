/**
 * What the gateway sees of crispy-widget.js: its text, not its code. wrangler.jsonc's `rules` make
 * the file a Text module (for wrangler and for the tests alike); routes/widget.ts serves it.
 */
declare const source: string;
export default source;
