// ACME TH-100 firmware 2: the port 1 payload gains a float32 LE air pressure (hPa).

function decodeUplink(input) {
  if (input.fPort !== 1) {
    return { errors: ["unknown FPort"] };
  }
  var buf = Buffer.from(input.bytes);
  return {
    data: {
      temperature: buf.readInt16BE(0) / 100,
      humidity: buf.readUInt8(2) / 2,
      battery: buf.readUInt16BE(3) / 1000,
      pressure: buf.readFloatLE(5),
    },
  };
}
