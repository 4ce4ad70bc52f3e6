/**
 * Asking before leaving a page with unsaved work (the pipeline editor): while a page sets
 * a question, navigating away in the app (the menu, links) asks it first, and so does the
 * browser on reload or close (`beforeunload`).
 */
let question: string | null = null;

function onBeforeUnload(e: BeforeUnloadEvent) {
  e.preventDefault();
  e.returnValue = '';
}

/** Links inside the app: asked about before React Router follows them. */
function onClickCapture(e: MouseEvent) {
  if (question === null || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
  const a = (e.target as Element | null)?.closest?.('a[href]') as HTMLAnchorElement | null;
  if (!a || a.target === '_blank' || a.origin !== window.location.origin) return;
  if (a.pathname === window.location.pathname && a.search === window.location.search) return;
  if (!window.confirm(question)) {
    e.preventDefault();
    e.stopPropagation();
  }
}

/** Sets (or, with null, clears) the question asked before leaving. */
export function setLeaveGuard(text: string | null) {
  if (text !== null && question === null) {
    window.addEventListener('beforeunload', onBeforeUnload);
    document.addEventListener('click', onClickCapture, true);
  } else if (text === null && question !== null) {
    window.removeEventListener('beforeunload', onBeforeUnload);
    document.removeEventListener('click', onClickCapture, true);
  }
  question = text;
}

/** For navigation the app does itself (its menu): true when there is nothing to lose or the user agrees. */
export function confirmLeave(): boolean {
  return question === null || window.confirm(question);
}
