// ACME TH-100 payload formatter (fixture for the import tests).
// Uplink port 1: int16 BE temperature (0.01 °C), uint8 humidity (0.5 %RH), uint16 BE battery (mV).
// Downlink port 10: 0x01 then a 24-bit reporting interval in seconds.

function decodeUplink(input) {
  if (input.fPort !== 1) {
    return { errors: ["unknown FPort"] };
  }
  if (input.bytes.length < 5) {
    return { errors: ["payload too short"] };
  }
  var buf = Buffer.from(input.bytes);
  var battery = buf.readUInt16BE(3) / 1000;
  var warnings = [];
  if (battery < 2.5) {
    warnings.push("battery low");
  }
  return {
    data: {
      temperature: buf.readInt16BE(0) / 100,
      humidity: buf.readUInt8(2) / 2,
      battery: battery,
    },
    warnings: warnings,
  };
}

function encodeDownlink(input) {
  var interval = input.data.interval;
  if (typeof interval !== "number" || interval < 60 || interval > 86400) {
    return { errors: ["interval must be 60..86400 s"] };
  }
  return { bytes: [0x01, (interval >> 16) & 0xff, (interval >> 8) & 0xff, interval & 0xff], fPort: 10 };
}

function decodeDownlink(input) {
  if (input.fPort !== 10 || input.bytes[0] !== 0x01) {
    return { errors: ["unknown command"] };
  }
  return { data: { interval: (input.bytes[1] << 16) | (input.bytes[2] << 8) | input.bytes[3] } };
}
