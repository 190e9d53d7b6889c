// The transport as the radio wires it: a receiver for this device (behind its onion service) with
// its inbox, an outbox that delivers through tor, and the mapping from config contacts to
// recipients and to the receiver's channel policy. Everything lives under the data directory:
//   <data>/inbox   received clips (age files to this device) and their records
//   <data>/outbox  clips waiting for a receipt
import { join } from 'node:path';
import type { ClipIdentity, ClipSigner } from '../clip/clip-types.js';
import type { Contact } from '../contacts/contact.js';
import { Inbox } from '../store/inbox.js';
import { Outbox, type OutboxOptions } from '../store/outbox.js';
import { recoveryJudge, type AcceptanceRules } from './clip-acceptance.js';
import { clipOpener } from './clip-adapter.js';
import type { ChannelPolicy } from './clip-opener.js';
import { startReceiver, type Receiver, type ReceiverLimits } from './receiver.js';
import type { ReplayPolicy } from './replay-window.js';
import { uploadClip, type Connector, type Recipient } from './sender.js';

/** The onion service's virtual port for clips. */
export const CLIP_VIRTUAL_PORT = 80;

export interface TransportIdentity extends ClipIdentity {
  readonly signer: ClipSigner;
}

/** A contact plus the channels it is on (firmware/contacts' ConfigContact satisfies it). */
export interface ChannelContact extends Contact {
  readonly channels: readonly string[];
}

export function recipientFor(contact: Contact, port = CLIP_VIRTUAL_PORT): Recipient {
  return { name: contact.name, host: contact.onion, port, signingKey: contact.signingKey };
}

/** A clip is accepted when its signer is a contact on the clip's channel. Read live at each upload. */
export function channelPolicyFor(contacts: () => readonly ChannelContact[]): ChannelPolicy {
  return (channel, senderKey) => contacts().some((c) => c.signingKey === senderKey && c.channels.includes(channel));
}

export interface ClipReceiverOptions {
  readonly dataDir: string;
  readonly identity: TransportIdentity;
  /** Current contacts (re-read on each upload, so edits to torlk.toml take effect without a restart). */
  readonly contacts: () => readonly ChannelContact[];
  readonly port?: number;
  readonly limits?: Partial<ReceiverLimits>;
  readonly replay?: ReplayPolicy;
}

export interface ClipReceiver {
  readonly port: number;
  readonly inbox: Inbox;
  readonly events: Receiver['events'];
  close(): Promise<void>;
}

export async function startClipReceiver(opts: ClipReceiverOptions): Promise<ClipReceiver> {
  const open = clipOpener({
    identity: { ageIdentity: opts.identity.ageIdentity, ageRecipient: opts.identity.ageRecipient },
    contacts: opts.contacts,
    ...(opts.limits?.maxBytes !== undefined ? { maxBytes: opts.limits.maxBytes } : {}),
  });
  const rules: AcceptanceRules = { policy: channelPolicyFor(opts.contacts), signer: opts.identity.signer, ...(opts.replay ? { replay: opts.replay } : {}) };
  // The judge decides on clips a stop caught between their journal write and their check.
  const inbox = await Inbox.open({ dir: join(opts.dataDir, 'inbox'), judge: recoveryJudge(open, rules) });
  let receiver: Receiver;
  try {
    receiver = await startReceiver({
      inbox,
      open,
      ...rules,
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      ...(opts.limits ? { limits: opts.limits } : {}),
    });
  } catch (err) {
    await inbox.close().catch(() => undefined);
    throw err;
  }
  // The server first (no new clips), then the inbox: it finishes writing received clips' own files.
  const close = async () => {
    await receiver.close();
    await inbox.close();
  };
  return { port: receiver.port, inbox, events: receiver.events, close };
}

export interface ClipOutboxOptions extends Omit<OutboxOptions, 'dir' | 'deliver'> {
  readonly dataDir: string;
  readonly connector: Connector;
  readonly responseTimeoutMs?: number;
}

/** The outbox under <data>/outbox, delivering with uploadClip over `connector`. Call start() to run it. */
export function openClipOutbox(opts: ClipOutboxOptions): Promise<Outbox> {
  const { dataDir, connector, responseTimeoutMs, ...rest } = opts;
  return Outbox.open({
    ...rest,
    dir: join(dataDir, 'outbox'),
    deliver: (item, sealed) =>
      uploadClip({ connector, recipient: item.recipient, body: sealed, clipId: item.clipId, ...(responseTimeoutMs !== undefined ? { responseTimeoutMs } : {}) }),
  });
}
