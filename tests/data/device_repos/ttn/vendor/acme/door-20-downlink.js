// ACME DOOR-20 downlinks, port 3: 1 arms the alarm, 0 disarms it.

function encodeDownlink(input) {
  return { bytes: [input.data.alarm ? 1 : 0], fPort: 3 };
}
