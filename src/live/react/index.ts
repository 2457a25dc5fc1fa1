// Public API of the React binding (no Next imports).
export { LiveProvider, useLiveInvalidator, useLiveMessages } from './LiveProvider';
export type { LiveProviderProps, Unsubscribable } from './LiveProvider';
