// Column selection keeps the batch's lineage (field hashes), so the analysis trains with missingRate like `run`.
export { appendColumns, selectColumns } from '@fallback-ctr/learn';
