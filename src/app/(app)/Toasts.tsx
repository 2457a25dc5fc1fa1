'use client';

import Link from 'next/link';
import { useCallback, useEffect, useState } from 'react';
import { useLiveMessages } from 'trpc-live/react';
import type { LiveMessage } from 'trpc-live/shared';
import { topics } from '../../trpc/resources';

interface Toast {
  id: string;
  kind: string;
  title: string;
  body: string;
  link: string | null;
}

/** How long a toast stays, in ms (a UI timer only: it never fetches). */
const TOAST_MS = 6000;
const MAX_TOASTS = 4;


/** Notifications pushed on the instant lane, shown as toasts in every tab. */
export function Toasts() {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const onMessage = useCallback((message: LiveMessage) => {
    // The event's data is typed by the declaration the server's publisher (server/notify.ts) is typed by.
    const event = topics.notifications.parse(message);
    if (!event) return;
    const { id, kind, title, body, link } = event.data;
    setToasts((list) => [{ id, kind, title, body, link }, ...list.filter((t) => t.id !== id)].slice(0, MAX_TOASTS));
  }, []);
  useLiveMessages(onMessage);
  const dismiss = useCallback((id: string) => setToasts((list) => list.filter((t) => t.id !== id)), []);
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((toast) => (
        <ToastItem key={toast.id} toast={toast} onDone={dismiss} />
      ))}
    </div>
  );
}

function ToastItem({ toast, onDone }: { toast: Toast; onDone: (id: string) => void }) {
  useEffect(() => {
    const timer = setTimeout(() => onDone(toast.id), TOAST_MS);
    return () => clearTimeout(timer);
  }, [onDone, toast.id]);
  return (
    <div className={`toast ${toast.kind.replace('.', '-')}`} role="status" data-testid="toast">
      <div className="toast-title">{toast.link ? <Link href={toast.link} prefetch={false}>{toast.title}</Link> : toast.title}</div>
      {toast.body && <div className="toast-body">{toast.body}</div>}
      <button className="close" aria-label="Dismiss" onClick={() => onDone(toast.id)}>
        ×
      </button>
    </div>
  );
}
