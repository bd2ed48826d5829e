import { randomBytes } from 'node:crypto';
import { trackingUri } from '../../../../test/support/set-up-env.js';

/** A name no other test (or engineer) uses on the shared MLflow server. */
export function uniqueName(prefix: string): string {
  return `mlflowlib-${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export const sharedTrackingUri = trackingUri;
