// Markdown panels: marked renders, DOMPurify sanitizes. Raw HTML in the
// source is shown as text, never passed through; links and images keep
// only http(s) and relative addresses, and links get rel="noopener
// noreferrer" (and target=_blank when the panel asks for new tabs).
import DOMPurify from 'dompurify';
import { Marked } from 'marked';

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const md = new Marked({
  gfm: true,
  async: false,
  renderer: {
    // Raw HTML, block or inline, is text.
    html({ text }) {
      return escapeHtml(text);
    },
  },
});

/** SAFE_URL: http(s) or relative (no scheme at all). */
export const SAFE_URL = /^(?:https?:|[^a-z]|[a-z0-9+.-]*(?:[^a-z0-9+.\-:]|$))/i;

let purifier: ReturnType<typeof DOMPurify> | null = null;
let newTab = false;

function getPurifier(): ReturnType<typeof DOMPurify> {
  if (purifier) return purifier;
  const p = DOMPurify(window);
  p.addHook('afterSanitizeAttributes', (node) => {
    const el = node as Element;
    for (const attr of ['href', 'src', 'xlink:href', 'action', 'formaction', 'srcset']) {
      const v = el.getAttribute?.(attr);
      if (v !== null && v !== undefined && (attr === 'srcset' || !SAFE_URL.test(v.trim()))) el.removeAttribute(attr);
    }
    if (el.tagName === 'A') {
      el.setAttribute('rel', 'noopener noreferrer');
      if (newTab) el.setAttribute('target', '_blank');
      else el.removeAttribute('target');
    }
  });
  purifier = p;
  return p;
}

/** renderMarkdown turns a markdown panel's source into safe HTML. */
export function renderMarkdown(src: string, opts: { openLinksInNewTab?: boolean } = {}): string {
  const html = md.parse(src) as string;
  newTab = !!opts.openLinksInNewTab;
  return getPurifier().sanitize(html, {
    ALLOWED_URI_REGEXP: SAFE_URL,
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed', 'svg', 'math'],
    FORBID_ATTR: ['style', 'class', 'id'],
    ALLOW_DATA_ATTR: false,
  }) as string;
}
