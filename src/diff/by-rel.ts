/** Orders files by `rel`, code unit by code unit (the order every ChangeSet list is in). */
export const byRel = (a: { rel: string }, b: { rel: string }): number => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0);
