// Checks an event's shape before the machine acts on it. Events come from our own shell and
// drivers, so a bad one is a bug; failing loudly here beats a silently wrong LED or a lost clip.
import { RadioInputError } from './radio-errors.js';
import { hardwareDevices, radioEventTypes, radioTimerIds, type RadioEvent } from './radio-types.js';

function nonEmptyString(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0;
}

export function checkRadioEvent(event: RadioEvent): void {
  const type = (event as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !(radioEventTypes as readonly string[]).includes(type)) {
    throw new RadioInputError(String(type), 'unknown event type');
  }
  if (typeof event.at !== 'number' || !Number.isFinite(event.at)) {
    throw new RadioInputError(type, `"at" must be a finite millisecond timestamp, got ${String(event.at)}`);
  }
  switch (event.type) {
    case 'timer':
      if (!radioTimerIds.includes(event.id)) throw new RadioInputError(type, `unknown timer id ${String(event.id)}`);
      break;
    case 'clipArrived':
    case 'clipQueued':
    case 'clipDelivered':
      if (!nonEmptyString(event.clipId)) throw new RadioInputError(type, 'clipId must be a non-empty string');
      break;
    case 'clipFailed':
      if (!nonEmptyString(event.clipId)) throw new RadioInputError(type, 'clipId must be a non-empty string');
      if (!['expired', 'rejected', 'storage'].includes(event.reason)) {
        throw new RadioInputError(type, `unknown failure reason ${String(event.reason)}`);
      }
      break;
    case 'playbackEnded':
      if (!nonEmptyString(event.playbackId)) throw new RadioInputError(type, 'playbackId must be a non-empty string');
      break;
    case 'torBootstrapping':
      if (typeof event.progress !== 'number' || !(event.progress >= 0 && event.progress <= 100)) {
        throw new RadioInputError(type, `progress must be 0–100, got ${String(event.progress)}`);
      }
      break;
    case 'torError':
      if (typeof event.reason !== 'string') throw new RadioInputError(type, 'reason must be a string');
      break;
    case 'torClockWrong':
      if (typeof event.detail !== 'string') throw new RadioInputError(type, 'detail must be a string');
      break;
    case 'hardwareFault':
      if (typeof event.reason !== 'string') throw new RadioInputError(type, 'reason must be a string');
    // falls through: a fault also names its device
    case 'hardwareRecovered':
      if (!hardwareDevices.includes(event.device)) throw new RadioInputError(type, `unknown device ${String(event.device)}`);
      break;
    default:
      break;
  }
}
