/**
 * Entitlements (`--allow network.host,security.insecure`): a build that asks for a host network
 * RUN or a privileged RUN fails before anything runs unless the user granted it, as BuildKit's
 * ValidateEntitlements does. The error names the step's source line.
 */
import type { Definition } from '../llb/types.ts';
import { KilnError } from '../util/errors.ts';

/** `frontend.local`: a build file's `# syntax=` may name a frontend file (checked by cli/frontend-loader.ts). */
export const ENTITLEMENTS = ['network.host', 'security.insecure', 'frontend.local'] as const;
export type Entitlement = (typeof ENTITLEMENTS)[number];

export function checkEntitlements(def: Definition, allowed: ReadonlySet<string>): void {
  for (const { digest, op: { op } } of def.ops) {
    if (op.type !== 'exec') continue;
    const wanted: Entitlement | undefined =
      op.network === 'host' && !allowed.has('network.host') ? 'network.host' : op.security === 'insecure' && !allowed.has('security.insecure') ? 'security.insecure' : undefined;
    if (!wanted) continue;
    const loc = def.metadata[digest]?.locations?.[0];
    throw new KilnError(`${wanted} is not allowed`, {
      kind: 'input',
      hint: `grant it with --allow ${wanted}`,
      location: loc ? { file: loc.file, startLine: loc.ranges[0]?.startLine ?? 0, endLine: loc.ranges[0]?.endLine ?? 0 } : undefined,
    });
  }
}
