// ACME TH-100 payload formatter (fixture for the import tests).
// Uplink port 1: int16 BE temperature (0.01 °C), uint8 humidity (0.5 %RH), uint16 BE battery (mV).

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
      hex: buf.toString("hex"),
    },
  };
}

function encodeDownlink(input) {
  var interval = input.data.interval;
  return { bytes: [0x01, (interval >> 16) & 0xff, (interval >> 8) & 0xff, interval & 0xff], fPort: 10 };
}
