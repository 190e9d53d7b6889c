// Why GPIO could not be used, as typed errors a person can act on. The `reason` discriminator is what
// code branches on (never the message); the message says what to do about it.

export type GpioUnavailableReason =
  | 'no-sysfs' // /sys/class/gpio is missing: not a Pi, or a kernel without CONFIG_GPIO_SYSFS
  | 'no-chip' // no gpiochip carries a BCM pin-controller label
  | 'pin-out-of-range' // the BCM pin is beyond the chip's ngpio
  | 'permission' // EACCES/EPERM on export, direction or value
  | 'busy' // the kernel already claimed the line (EBUSY), e.g. an overlay uses the pin
  | 'invalid-number' // the kernel rejected the sysfs number (EINVAL): wrong base
  | 'driver'; // onoff or its epoll addon failed to load

export class GpioUnavailableError extends Error {
  override readonly name = 'GpioUnavailableError';
  constructor(
    readonly reason: GpioUnavailableReason,
    message: string,
    /** The BCM pin concerned, when there is one. */
    readonly bcmPin?: number,
    options?: { cause?: unknown },
  ) {
    super(`GPIO is not available: ${message}`, options);
  }
}

/** A write or read on an exported pin failed (EIO after the pin was set up). */
export class GpioIoError extends Error {
  override readonly name = 'GpioIoError';
  constructor(
    readonly bcmPin: number,
    readonly operation: 'read' | 'write',
    options?: { cause?: unknown },
  ) {
    const why = (options?.cause as { message?: string } | undefined)?.message ?? 'unknown error';
    super(`GPIO${bcmPin} ${operation} failed: ${why}`, options);
  }
}

function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Turns what onoff throws while exporting and configuring a pin (plain Node fs errors) into a
 * GpioUnavailableError. Errors it does not recognise are wrapped as 'driver' so callers get one type.
 */
export function gpioSetupError(err: unknown, bcmPin: number, sysfsNumber: number, gpioRoot = '/sys/class/gpio'): GpioUnavailableError {
  if (err instanceof GpioUnavailableError) return err;
  const code = errnoCode(err);
  const path = (err as { path?: unknown } | null)?.path;
  const where = typeof path === 'string' ? path : `${gpioRoot}/export`;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return new GpioUnavailableError(
        'permission',
        `permission denied on ${where}: add the user to the gpio group (sudo adduser $USER gpio) and log in again`,
        bcmPin,
        { cause: err },
      );
    case 'ENOENT':
      return new GpioUnavailableError('no-sysfs', `${where} does not exist (not a Raspberry Pi?)`, bcmPin, { cause: err });
    case 'EBUSY':
      return new GpioUnavailableError(
        'busy',
        `GPIO${bcmPin} (sysfs ${sysfsNumber}) is in use by the kernel or another program; check config.txt overlays`,
        bcmPin,
        { cause: err },
      );
    case 'EINVAL':
      return new GpioUnavailableError(
        'invalid-number',
        `the kernel rejected sysfs GPIO ${sysfsNumber} for GPIO${bcmPin} (wrong gpiochip base?)`,
        bcmPin,
        { cause: err },
      );
    default: {
      const why = err instanceof Error ? err.message : String(err);
      return new GpioUnavailableError('driver', `setting up GPIO${bcmPin} failed: ${why}`, bcmPin, { cause: err });
    }
  }
}
