import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Search attributes every long-lived process sets, so an operator can find in the Temporal UI every
 * workflow of a cooperative or member and see its business status.
 */
export const CooperativeId = defineSearchAttributeKey('CooperativeId', SearchAttributeType.KEYWORD);
export const MemberId = defineSearchAttributeKey('MemberId', SearchAttributeType.KEYWORD);
export const BusinessStatus = defineSearchAttributeKey('BusinessStatus', SearchAttributeType.KEYWORD);

/** Name to type, in the form the Temporal CLI's `--search-attribute` flag takes. */
export const SEARCH_ATTRIBUTES = { CooperativeId: 'Keyword', MemberId: 'Keyword', BusinessStatus: 'Keyword' } as const;
