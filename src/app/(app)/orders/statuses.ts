/** Order statuses, as the server defines them (kept here so client bundles do not import server code). */
export const STATUSES = ['pending', 'paid', 'shipped', 'cancelled'] as const;
export type Status = (typeof STATUSES)[number];
