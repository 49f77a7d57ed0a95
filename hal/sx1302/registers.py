"""The SX1302 register fields this driver touches: address, bit offset and width.

Addresses and bit positions are the chip's (Semtech sx1302_hal 2.1.0 register map, see
docs/sx1302.md). A field narrower than a byte is written read-modify-write by the host; a whole
byte is written directly. TX registers exist once per chain: chain B is chain A + 0x200.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    address: int
    offset: int = 0
    width: int = 8

    @property
    def whole_byte(self) -> bool:
        return self.offset == 0 and self.width == 8

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.offset


def _f(name: str, address: int, offset: int = 0, width: int = 8) -> Field:
    return Field(name, address, offset, width)


TX_CHAIN_STRIDE: Final = 0x200


def for_chain(field: Field, chain: int) -> Field:
    """The chain-B twin of a TX_TOP (chain A) field."""
    return replace(field, address=field.address + TX_CHAIN_STRIDE * chain)


# --- memories ------------------------------------------------------------------------------
AGC_MEMORY: Final = 0x0000
ARB_MEMORY: Final = 0x2000
MCU_FIRMWARE_SIZE: Final = 8192
RX_FIFO: Final = 0x4000
TX_BUFFER: Final = (0x5300, 0x5500)

# --- COMMON --------------------------------------------------------------------------------
PAGE = _f("COMMON_PAGE", 0x5600, 0, 2)
CLK32_RIF_CTRL = _f("CLK32_RIF_CTRL", 0x5601, 4, 1)
HOST_RADIO_CTRL = _f("HOST_RADIO_CTRL", 0x5601, 3, 1)
SX1261_MODE_RADIO = (
    _f("SX1261_MODE_RADIO_A", 0x5601, 0, 1),
    _f("SX1261_MODE_RADIO_B", 0x5601, 1, 1),
)
GLOBAL_EN = _f("GLOBAL_EN", 0x5605, 3, 1)
FSK_MODEM_ENABLE = _f("FSK_MODEM_ENABLE", 0x5605, 2, 1)
MULTI_SF_MODEM_ENABLE = _f("CONCENTRATOR_MODEM_ENABLE", 0x5605, 1, 1)
SERVICE_MODEM_ENABLE = _f("MBWSSF_MODEM_ENABLE", 0x5605, 0, 1)
VERSION = _f("COMMON_VERSION", 0x5606)

# --- GPIO ----------------------------------------------------------------------------------
GPIO_DIRECTION = _f("GPIO_DIR_L", 0x5641)
GPIO_OUT = _f("GPIO_OUT_L", 0x5643)
GPIO_SELECT = tuple(_f(f"GPIO_SEL_{n}", 0x5648 + n, 0, 4) for n in range(8))

# --- RADIO_FE ------------------------------------------------------------------------------
# (chain A address, chain B address) pairs.
RSSI_DB_DEFAULT = (_f("RSSI_DB_DEF_A", 0x5702), _f("RSSI_DB_DEF_B", 0x570F))
RSSI_DEC_DEFAULT = (_f("RSSI_DEC_DEF_A", 0x5703), _f("RSSI_DEC_DEF_B", 0x5710))
RSSI_BB_FILTER_ALPHA = (_f("RSSI_BB_ALPHA_A", 0x5707, 0, 5), _f("RSSI_BB_ALPHA_B", 0x5714, 0, 5))
RSSI_DEC_FILTER_ALPHA = (_f("RSSI_DEC_ALPHA_A", 0x5708, 0, 5), _f("RSSI_DEC_ALPHA_B", 0x5715, 0, 5))
DC_NOTCH_EN = (_f("DC_NOTCH_EN_A", 0x5701, 5, 1), _f("DC_NOTCH_EN_B", 0x570E, 5, 1))
HOST_FILTER_GAIN = (_f("HOST_FILTER_GAIN_A", 0x5701, 0, 4), _f("HOST_FILTER_GAIN_B", 0x570E, 0, 4))

# --- AGC MCU -------------------------------------------------------------------------------
AGC_FORCE_HOST_FE_CTRL = _f("AGC_FORCE_HOST_FE_CTRL", 0x5780, 3, 1)
AGC_MCU_CLEAR = _f("AGC_MCU_CLEAR", 0x5780, 2, 1)
AGC_HOST_PROG = _f("AGC_HOST_PROG", 0x5780, 1, 1)
AGC_PARITY_ERROR = _f("AGC_PARITY_ERROR", 0x5780, 0, 1)
AGC_STATUS = _f("AGC_STATUS", 0x5781)
RADIO_RESET = (_f("RADIO_A_RST", 0x5783, 3, 1), _f("RADIO_B_RST", 0x5784, 3, 1))
RADIO_ENABLE = (_f("RADIO_A_EN", 0x5783, 2, 1), _f("RADIO_B_EN", 0x5784, 2, 1))
RADIO_A_PA_EN = _f("RADIO_A_PA_EN", 0x5783, 1, 1)
RADIO_A_LNA_EN = _f("RADIO_A_LNA_EN", 0x5783, 0, 1)
PA_LUT = (_f("LUT_A_PA", 0x5785, 4, 4), _f("LUT_B_PA", 0x5786, 4, 4))
LNA_LUT = (_f("LUT_A_LNA", 0x5785, 0, 4), _f("LUT_B_LNA", 0x5786, 0, 4))


def agc_mailbox_write(n: int) -> Field:
    """Host-to-AGC mailbox ``n`` (0..3) lives at 0x578C - n."""
    return _f(f"AGC_MAILBOX_WR_{n}", 0x578C - n)


def agc_mailbox_read(n: int) -> Field:
    """AGC-to-host mailbox ``n`` (0..3) lives at 0x5790 - n."""
    return _f(f"AGC_MAILBOX_RD_{n}", 0x5790 - n)


# --- CLK_CTRL ------------------------------------------------------------------------------
CLK_RADIO_SELECT = (_f("CLK_RADIO_A_SEL", 0x57C0, 0, 1), _f("CLK_RADIO_B_SEL", 0x57C0, 1, 1))
CLKDIV_EN = _f("CLKDIV_EN", 0x57C0, 2, 1)

# --- RX_TOP (multi-SF channels) ------------------------------------------------------------
IF_FREQ_MSB = tuple(_f(f"IF_FREQ_{n}_MSB", 0x5800 + 2 * n, 0, 5) for n in range(8))
IF_FREQ_LSB = tuple(_f(f"IF_FREQ_{n}_LSB", 0x5801 + 2 * n) for n in range(8))
MULTI_SF_RADIO_SELECT = _f("RX_RADIO_SELECT", 0x5810)
RSSI_FILTER_ALPHA = _f("RSSI_FILTER_ALPHA", 0x5811, 3, 5)
CHAN_RSSI_DEFAULT = _f("CHAN_RSSI_DEF_VALUE", 0x5812)
CHAN_DAGC_THRESHOLD_HIGH = _f("CHAN_DAGC_THRESHOLD_HIGH", 0x5813)
CHAN_DAGC_THRESHOLD_LOW = _f("CHAN_DAGC_THRESHOLD_LOW", 0x5814)
CHAN_DAGC_MAX_ATTEN = _f("CHAN_DAGC_MAX_ATTEN", 0x5815, 4, 4)
CHAN_DAGC_MIN_ATTEN = _f("CHAN_DAGC_MIN_ATTEN", 0x5815, 0, 4)
CHAN_DAGC_MODE = _f("CHAN_DAGC_MODE", 0x5817, 0, 2)
CORR_CLOCK_ENABLE = _f("CORR_CLOCK_ENABLE", 0x5820)
CORR_ENABLE = _f("CORR_EN", 0x5821)
CORR_SF_ENABLE = _f("CORR_SF_EN", 0x5822)
CORR_ONLY_FIRST_DET_EDGE = _f("CORR_ONLY_FIRST_DET_EDGE", 0x5823)
CORR_ACC_CLEAR = _f("CORR_ACC_CLEAR", 0x5824)


def correlator_fields(sf: int) -> tuple[Field, Field, Field, Field]:
    """ACC_PNR, MSP_PNR, MSP_PEAK_NB and MSP2_PEAK_NB of the SF5..SF12 correlator blocks."""
    base = 0x5826 + 7 * (sf - 5)
    return (
        _f(f"SF{sf}_ACC_PNR", base, 0, 7),
        _f(f"SF{sf}_MSP_PNR", base + 2, 0, 7),
        _f(f"SF{sf}_MSP_PEAK_NB", base + 4, 3, 3),
        _f(f"SF{sf}_MSP2_PEAK_NB", base + 5, 2, 3),
    )


DC_NOTCH_ENABLE = _f("DC_NOTCH_ENABLE", 0x5860, 0, 1)
FORCE_DEFAULT_FIR = _f("RX_DFE_FORCE_DEFAULT_FIR", 0x5875, 3, 1)
DAGC_GAIN_DROP_COMP = _f("DAGC_GAIN_DROP_COMP", 0x5878, 4, 1)
DAGC_TARGET_LVL = _f("DAGC_TARGET_LVL", 0x5878, 6, 2)
PREAMBLE_SYMB_NB_LSB = _f("RX_PREAMBLE_LSB", 0x5883)
PREAMBLE_SYMB_NB_MSB = _f("RX_PREAMBLE_MSB", 0x5884)
DFT_PEAK_EN = _f("DFT_PEAK_EN", 0x5887, 4, 2)
FRAME_SYNCH_PEAK1 = {
    5: _f("SYNCH_SF5_PEAK1", 0x588A, 0, 5),
    6: _f("SYNCH_SF6_PEAK1", 0x588C, 0, 5),
    7: _f("SYNCH_SF7TO12_PEAK1", 0x588E, 0, 5),
}
FRAME_SYNCH_PEAK2 = {
    5: _f("SYNCH_SF5_PEAK2", 0x588B, 0, 5),
    6: _f("SYNCH_SF6_PEAK2", 0x588D, 0, 5),
    7: _f("SYNCH_SF7TO12_PEAK2", 0x588F, 0, 5),
}
FINE_TIMING_A_GAIN_P_AUTO = _f("FINE_TIMING_A_GAIN_P_AUTO", 0x5892, 6, 2)
FINE_TIMING_A_GAIN_P_PAYLOAD = _f("FINE_TIMING_A_GAIN_P_PAYLOAD", 0x5892, 3, 3)
FINE_TIMING_A_GAIN_I_EN = {
    11: _f("FINE_TIMING_A_GAIN_I_EN_SF11", 0x5896, 4, 2),
    12: _f("FINE_TIMING_A_GAIN_I_EN_SF12", 0x5896, 6, 2),
}
FINE_TIMING_B_MODE = _f("FINE_TIMING_B_MODE", 0x5899, 0, 2)
FINE_TIMING_B_ROUNDING = _f("FINE_TIMING_B_ROUNDING", 0x5899, 6, 1)
FINE_TIMING_B_GAIN_P_AUTO = _f("FINE_TIMING_B_GAIN_P_AUTO", 0x589A, 6, 2)
FINE_TIMING_B_GAIN_P_PREAMB = _f("FINE_TIMING_B_GAIN_P_PREAMB", 0x589A, 0, 3)
FINE_TIMING_B_GAIN_P_PAYLOAD = _f("FINE_TIMING_B_GAIN_P_PAYLOAD", 0x589A, 3, 3)
FINE_TIMING_B_GAIN_I_AUTO = _f("FINE_TIMING_B_GAIN_I_AUTO", 0x589B, 6, 2)
FINE_TIMING_B_GAIN_I_PREAMB = _f("FINE_TIMING_B_GAIN_I_PREAMB", 0x589B, 0, 3)
FINE_TIMING_B_GAIN_I_PAYLOAD = _f("FINE_TIMING_B_GAIN_I_PAYLOAD", 0x589B, 3, 3)
FINE_TIMING_B_GAIN_I_EN = {
    11: _f("FINE_TIMING_B_GAIN_I_EN_SF11", 0x589E, 4, 2),
    12: _f("FINE_TIMING_B_GAIN_I_EN_SF12", 0x589E, 6, 2),
}
FREQ_TO_TIME_MANT_MSB = _f("FREQ_TO_TIME_MANT_MSB", 0x58A0, 0, 4)
FREQ_TO_TIME_MANT_LSB = _f("FREQ_TO_TIME_MANT_LSB", 0x58A1)
FREQ_TO_TIME_EXP = _f("FREQ_TO_TIME_EXP", 0x58A2, 0, 3)
FREQ_TO_TIME_INVERT_TIME_SYMB = _f("FREQ_TO_TIME_INVERT_TIME_SYMB", 0x58A3, 2, 1)


def freq_track_field(timing_set: str, sf: int) -> Field:
    """FREQ_TRACK_EN of timing set A (best demodulation) or B (best timestamp), SF5..SF12."""
    base = 0x58A5 if timing_set == "A" else 0x58A7
    index = sf - 5
    return _f(f"FREQ_TRACK_{timing_set}_SF{sf}", base + index // 4, 2 * (index % 4), 2)


FREQ_SYNCH_THR = _f("FREQ_SYNCH_THR", 0x58AB, 0, 4)
MODEM_SYNC_DELTA_MSB = _f("MODEM_SYNC_DELTA_MSB", 0x58B7, 0, 3)
MODEM_SYNC_DELTA_LSB = _f("MODEM_SYNC_DELTA_LSB", 0x58B8)


def ppm_offset_field(sf: int) -> Field:
    index = sf - 5
    return _f(f"PPM_OFFSET_SF{sf}", 0x58B9 + index // 4, 2 * (index % 4), 2)


LEGACY_TIMESTAMP = _f("RX_BUFFER_LEGACY_TIMESTAMP", 0x58C0, 2, 1)
RX_BUFFER_NB_BYTES = 0x58C8  # 2 bytes, MSB first (MSB is 5 bits)

# --- RX_TOP LoRa service channel (IF8) and FSK (IF9) ---------------------------------------
SERVICE_IF_FREQ_MSB = _f("SERVICE_IF_FREQ_MSB", 0x5B00, 0, 5)
SERVICE_IF_FREQ_LSB = _f("SERVICE_IF_FREQ_LSB", 0x5B01)
SERVICE_RADIO_SELECT = _f("SERVICE_RADIO_SEL", 0x5B02, 0, 1)
SERVICE_DC_NOTCH_ENABLE = _f("SERVICE_DC_NOTCH_ENABLE", 0x5B03, 0, 1)
SERVICE_FORCE_DEFAULT_FIR = _f("SERVICE_FORCE_DEFAULT_FIR", 0x5B18, 3, 1)
SERVICE_DAGC_IN_COMP = _f("SERVICE_DAGC_IN_COMP", 0x5B19, 6, 1)
SERVICE_DAGC_GAIN_DROP_COMP = _f("SERVICE_DAGC_GAIN_DROP_COMP", 0x5B1B, 4, 1)
SERVICE_DAGC_TARGET_LVL = _f("SERVICE_DAGC_TARGET_LVL", 0x5B1B, 6, 2)
SERVICE_MODEM_SF = _f("SERVICE_MODEM_SF", 0x5B21, 0, 4)
SERVICE_MODEM_BW = _f("SERVICE_MODEM_BW", 0x5B21, 4, 4)
SERVICE_CODING_RATE = _f("SERVICE_CODING_RATE", 0x5B22, 0, 3)
SERVICE_MODEM_EN = _f("SERVICE_MODEM_EN", 0x5B22, 3, 1)
SERVICE_PPM_OFFSET = _f("SERVICE_PPM_OFFSET", 0x5B22, 4, 2)
SERVICE_CRC_EN = _f("SERVICE_CRC_EN", 0x5B23, 0, 1)
SERVICE_IMPLICIT_HEADER = _f("SERVICE_IMPLICIT_HEADER", 0x5B23, 1, 1)
SERVICE_CADRXTX = _f("SERVICE_CADRXTX", 0x5B23, 2, 2)
SERVICE_MODEM_START = _f("SERVICE_MODEM_START", 0x5B23, 4, 1)
SERVICE_FINE_SYNCH_EN = _f("SERVICE_FINE_SYNCH_EN", 0x5B23, 5, 1)
SERVICE_PAYLOAD_LENGTH = _f("SERVICE_PAYLOAD_LENGTH", 0x5B24)
SERVICE_PREAMBLE_LSB = _f("SERVICE_PREAMBLE_LSB", 0x5B27)
SERVICE_PREAMBLE_MSB = _f("SERVICE_PREAMBLE_MSB", 0x5B28)
SERVICE_DFT_PEAK_EN = _f("SERVICE_DFT_PEAK_EN", 0x5B2A, 4, 2)
SERVICE_SYNCH_PEAK1 = _f("SERVICE_SYNCH_PEAK1", 0x5B2E, 0, 5)
SERVICE_SYNCH_PEAK2 = _f("SERVICE_SYNCH_PEAK2", 0x5B2F, 0, 5)
SERVICE_GAIN_P_PREAMB = _f("SERVICE_GAIN_P_PREAMB", 0x5B32, 0, 3)
SERVICE_GAIN_P_AUTO = _f("SERVICE_GAIN_P_AUTO", 0x5B32, 6, 2)
SERVICE_GAIN_I_PAYLOAD = _f("SERVICE_GAIN_I_PAYLOAD", 0x5B33, 3, 3)
SERVICE_GAIN_I_EN = _f("SERVICE_GAIN_I_EN", 0x5B33, 6, 2)
SERVICE_FREQ_TO_TIME_MANT_MSB = _f("SERVICE_FREQ_TO_TIME_MANT_MSB", 0x5B36, 0, 4)
SERVICE_FREQ_TO_TIME_MANT_LSB = _f("SERVICE_FREQ_TO_TIME_MANT_LSB", 0x5B37)
SERVICE_FREQ_TO_TIME_EXP = _f("SERVICE_FREQ_TO_TIME_EXP", 0x5B38, 0, 3)
SERVICE_FREQ_TO_TIME_INVERT = _f("SERVICE_FREQ_TO_TIME_INVERT", 0x5B39, 2, 1)
SERVICE_MSP_PEAK_NB = _f("SERVICE_MSP_PEAK_NB", 0x5B40, 0, 3)
SERVICE_MSP2_PEAK_NB = _f("SERVICE_MSP2_PEAK_NB", 0x5B40, 4, 3)
SERVICE_ACC_PNR = _f("SERVICE_ACC_PNR", 0x5B42, 0, 7)
SERVICE_USE_GAIN_SYMB = _f("SERVICE_USE_GAIN_SYMB", 0x5B42, 7, 1)

FSK_IF_FREQ_MSB = _f("FSK_IF_FREQ_MSB", 0x5B50, 0, 5)
FSK_IF_FREQ_LSB = _f("FSK_IF_FREQ_LSB", 0x5B51)
FSK_PKT_MODE = _f("FSK_PKT_MODE", 0x5B52, 0, 1)
FSK_CRC_EN = _f("FSK_CRC_EN", 0x5B52, 1, 1)
FSK_DCFREE_ENC = _f("FSK_DCFREE_ENC", 0x5B52, 2, 2)
FSK_CRC_IBM = _f("FSK_CRC_IBM", 0x5B52, 4, 1)
FSK_CH_BW_EXPO = _f("FSK_CH_BW_EXPO", 0x5B53, 0, 3)
FSK_PSIZE = _f("FSK_PSIZE", 0x5B53, 3, 3)
FSK_RX_INVERT = _f("FSK_RX_INVERT", 0x5B54, 0, 1)
FSK_RADIO_SELECT = _f("FSK_RADIO_SELECT", 0x5B54, 1, 1)
FSK_AUTO_AFC = _f("FSK_AUTO_AFC", 0x5B54, 2, 1)
FSK_MODEM_INVERT_IQ = _f("FSK_MODEM_INVERT_IQ", 0x5B54, 3, 1)
FSK_ERROR_OSR_TOL = _f("FSK_ERROR_OSR_TOL", 0x5B55, 0, 5)
FSK_RSSI_LENGTH = _f("FSK_RSSI_LENGTH", 0x5B55, 5, 3)
FSK_NODE_ADDRESS = _f("FSK_NODE_ADRS", 0x5B56)
FSK_BROADCAST = _f("FSK_BROADCAST", 0x5B57)
FSK_PKT_LENGTH = _f("FSK_PKT_LENGTH", 0x5B58)
FSK_TIMEOUT_MSB = _f("FSK_TIMEOUT_MSB", 0x5B59, 0, 2)
FSK_TIMEOUT_LSB = _f("FSK_TIMEOUT_LSB", 0x5B5A)
FSK_BIT_RATE_MSB = _f("FSK_BIT_RATE_MSB", 0x5B5B)
FSK_BIT_RATE_LSB = _f("FSK_BIT_RATE_LSB", 0x5B5C)
# Sync-word pattern byte n (n = 0 least significant) is at 0x5B64 - n.
FSK_REF_PATTERN = tuple(_f(f"FSK_REF_PATTERN_{n}", 0x5B64 - n) for n in range(8))

# --- ARB MCU -------------------------------------------------------------------------------
ARB_MCU_CLEAR = _f("ARB_MCU_CLEAR", 0x6080, 2, 1)
ARB_HOST_PROG = _f("ARB_HOST_PROG", 0x6080, 1, 1)
ARB_PARITY_ERROR = _f("ARB_PARITY_ERROR", 0x6080, 0, 1)
ARB_STATUS = _f("ARB_STATUS", 0x6081)
ARB_DEBUG_CFG = tuple(_f(f"ARB_DEBUG_CFG_{n}", 0x6089 + n) for n in range(4))
ARB_DEBUG_STS_0 = _f("ARB_DEBUG_STS_0", 0x608D)
# Fine sync offset of multi-SF channel n: byte 0x609D + n // 2, nibble n % 2.
CHANNEL_SYNC_OFFSET = tuple(
    _f(f"CHANNEL_{n}_SYNC_OFFSET", 0x609D + n // 2, 4 * (n % 2), 4) for n in range(8)
)

# --- TIMESTAMP -----------------------------------------------------------------------------
GPS_EN = _f("GPS_EN", 0x6100, 0, 1)
GPS_POL = _f("GPS_POL", 0x6100, 1, 1)
COUNTERS = 0x6101  # 8 bytes: PPS counter then free-running counter, 32 MHz, big-endian

# --- OTP -----------------------------------------------------------------------------------
OTP_ADDRESS = _f("OTP_BYTE_ADDR", 0x6180)
OTP_DATA = _f("OTP_RD_DATA", 0x6181)
OTP_MODEM_EN = (_f("OTP_MODEM_EN_0", 0x6188), _f("OTP_MODEM_EN_1", 0x6189))
OTP_MODEL_ID_ADDRESS: Final = 0xD0

# --- TX_TOP (chain A; for_chain() gives chain B) -------------------------------------------
TX_TRIG_IMMEDIATE = _f("TX_TRIG_IMMEDIATE", 0x5200, 0, 1)
TX_TRIG_DELAYED = _f("TX_TRIG_DELAYED", 0x5200, 1, 1)
TX_TRIG_GPS = _f("TX_TRIG_GPS", 0x5200, 2, 1)
TX_TIMER_TRIG = tuple(_f(f"TX_TIMER_TRIG_BYTE{n}", 0x5204 - n) for n in range(4))  # byte 0 = LSB
TX_START_DELAY: Final = 0x5205  # 2 bytes, MSB first, written as one burst
TX_WRITE_BUFFER = _f("TX_WRITE_BUFFER", 0x5207, 0, 1)
TX_MODULATION_TYPE = _f("TX_MODULATION_TYPE", 0x5209, 0, 1)
TX_AGC_BW = _f("TX_AGC_BW", 0x520C)
TX_AGC_PWR = _f("TX_AGC_PWR", 0x520D)
TX_STATUS = _f("TX_FSM_STATUS", 0x5211)
TX_IF_SRC = _f("TX_IF_SRC", 0x5220, 0, 2)
TX_IF_DST = _f("TX_IF_DST", 0x5220, 2, 1)
TX_MODE = _f("TX_MODE", 0x5220, 3, 1)
TX_CLK_EDGE = _f("TX_CLK_EDGE", 0x5220, 4, 1)
TX_PLL_DIV_CTRL_AGC = _f("TX_PLL_DIV_CTRL_AGC", 0x5221, 0, 1)
TX_IQ_GAIN = _f("TX_IQ_GAIN", 0x5222, 0, 2)
TX_I_OFFSET = _f("TX_I_OFFSET", 0x5223)
TX_Q_OFFSET = _f("TX_Q_OFFSET", 0x5224)
TX_FREQ_RF = (_f("TX_FREQ_RF_H", 0x5225), _f("TX_FREQ_RF_M", 0x5226), _f("TX_FREQ_RF_L", 0x5227))
TX_FREQ_DEV_H = _f("TX_FREQ_DEV_H", 0x5228, 0, 4)
TX_FREQ_DEV_L = _f("TX_FREQ_DEV_L", 0x5229)
TX_FSK_PKT_LENGTH = _f("TX_FSK_PKT_LEN", 0x5240)
TX_FSK_PKT_MODE = _f("TX_FSK_PKT_MODE", 0x5241, 0, 1)
TX_FSK_CRC_EN = _f("TX_FSK_CRC_EN", 0x5241, 1, 1)
TX_FSK_DCFREE_ENC = _f("TX_FSK_DCFREE_ENC", 0x5241, 2, 2)
TX_FSK_CRC_IBM = _f("TX_FSK_CRC_IBM", 0x5241, 4, 1)
TX_FSK_PREAMBLE_SIZE: Final = 0x5242  # 2 bytes, MSB first
TX_FSK_BIT_RATE: Final = 0x5244  # 2 bytes, MSB first
TX_FSK_GAUSSIAN_EN = _f("TX_FSK_GAUSSIAN_EN", 0x5246, 0, 1)
TX_FSK_GAUSSIAN_SELECT_BT = _f("TX_FSK_GAUSSIAN_BT", 0x5246, 1, 2)
TX_FSK_REF_PATTERN_EN = _f("TX_FSK_REF_PATTERN_EN", 0x5246, 3, 1)
TX_FSK_PREAMBLE_SEQ = _f("TX_FSK_PREAMBLE_SEQ", 0x5246, 4, 1)
TX_FSK_REF_PATTERN_SIZE = _f("TX_FSK_REF_PATTERN_SIZE", 0x5246, 5, 3)
TX_FSK_REF_PATTERN = tuple(_f(f"TX_FSK_REF_PATTERN_{n}", 0x524E - n) for n in range(8))
TX_MODEM_SF = _f("TX_MODEM_SF", 0x5260, 0, 4)
TX_MODEM_BW = _f("TX_MODEM_BW", 0x5260, 4, 4)
TX_CODING_RATE = _f("TX_CODING_RATE", 0x5261, 0, 3)
TX_PPM_OFFSET = _f("TX_PPM_OFFSET", 0x5261, 4, 2)
TX_PPM_OFFSET_HDR_CTRL = _f("TX_PPM_OFFSET_HDR_CTRL", 0x5261, 6, 2)
TX_CRC_EN = _f("TX_CRC_EN", 0x5262, 0, 1)
TX_IMPLICIT_HEADER = _f("TX_IMPLICIT_HEADER", 0x5262, 1, 1)
TX_CADRXTX = _f("TX_CADRXTX", 0x5262, 4, 2)
TX_MODEM_EN = _f("TX_MODEM_EN", 0x5262, 6, 1)
TX_FINE_SYNCH_EN = _f("TX_FINE_SYNCH_EN", 0x5262, 7, 1)
TX_PAYLOAD_LENGTH = _f("TX_PAYLOAD_LENGTH", 0x5263)
TX_MODEM_START = _f("TX_MODEM_START", 0x5265, 7, 1)
TX_PREAMBLE_LSB = _f("TX_PREAMBLE_LSB", 0x5266)
TX_PREAMBLE_MSB = _f("TX_PREAMBLE_MSB", 0x5267)
TX_CONTINUOUS = _f("TX_CONTINUOUS", 0x5269, 0, 1)
TX_CHIRP_INVERT = _f("TX_CHIRP_INVERT", 0x5269, 1, 1)
TX_CHIRP_LOWPASS = _f("TX_CHIRP_LOWPASS", 0x5269, 4, 3)
TX_SYNCH_PEAK1 = _f("TX_SYNCH_PEAK1", 0x526D, 0, 5)
TX_SYNCH_PEAK2 = _f("TX_SYNCH_PEAK2", 0x526E, 0, 5)

# TX FSM status values (0x5211 / 0x5411).
TX_STATUS_FREE: Final = 0x80
TX_STATUS_SCHEDULED: Final = frozenset({0x91, 0x92})
TX_STATUS_EMITTING: Final = frozenset({0x30, 0x50, 0x60, 0x70})
