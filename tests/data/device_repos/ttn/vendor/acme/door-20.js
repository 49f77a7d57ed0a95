// ACME DOOR-20 uplinks, port 2: flags (bit 0: open), uint32 BE openings, uint32 BE unix time.

function decodeUplink(input) {
  if (input.fPort !== 2) {
    return { errors: ["unknown FPort"] };
  }
  var b = Buffer.from(input.bytes);
  return {
    data: {
      open: (b[0] & 1) === 1,
      openings: b.readUInt32BE(1),
      lastChange: new Date(b.readUInt32BE(5) * 1000),
    },
  };
}
