import { useEffect, useRef, type KeyboardEvent } from 'react';

/**
 * What makes a panel close like a dialog: Escape inside it calls onClose, and once it is gone
 * focus goes back to the control that opened it. `opening` names what the panel shows when it
 * stays open for another item (a second Provenance button): that button is the opener then.
 * Spread the result on the panel's element: `<section {...dialog}>`.
 */
export function useDialog(onClose: () => void, opening?: unknown) {
  const opener = useRef<Element | null>(null);
  const shown = useRef<{ opening: unknown } | null>(null);
  // Read while rendering the opening: by its effects, autoFocus has moved focus inside.
  if (!shown.current || shown.current.opening !== opening) {
    shown.current = { opening };
    opener.current = document.activeElement;
  }
  useEffect(
    () => () => {
      // Only when its focus went with the panel (StrictMode's trial unmount removes nothing).
      const el = opener.current;
      const lost = !document.activeElement || document.activeElement === document.body;
      if (lost && el instanceof HTMLElement && el.isConnected) el.focus();
    },
    [],
  );
  const close = useRef(onClose);
  close.current = onClose;
  return {
    onKeyDown(e: KeyboardEvent) {
      if (e.key !== 'Escape' || e.defaultPrevented) return;
      // One Escape closes one panel, the innermost.
      e.preventDefault();
      e.stopPropagation();
      close.current();
    },
  };
}
