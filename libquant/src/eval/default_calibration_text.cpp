// The bundled default calibration text: original prose written for this
// project (no third-party text), mixing narrative, exposition, dialogue,
// lists, numbers and a little code, so that every linear layer sees varied
// activations when no --calibration-data is given. For serious work, pass
// text that resembles what the model will read.
#include "libquant/eval/calibration_data.hpp"

namespace libquant::eval {

const std::string& default_calibration_text() {
  static const std::string text =
      R"TXT(The lighthouse keeper had lived on the island for eleven years before the first letter arrived. It came in a tin box tied to a buoy, and the paper inside was dry, folded twice, and signed only with a drawing of a heron. She read it at the kitchen table while the kettle complained on the stove. "If you are reading this," it began, "then the currents still work the way my grandfather said they did."

Every evening she climbed the one hundred and twelve steps to the lamp room, wound the clockwork, trimmed the wick, and wrote the weather in a ledger: wind from the south-west, force five; visibility good; a freighter passing at twenty past nine. The ledger was older than she was. Its first pages were written in a careful, slanted hand that used words nobody used any more, such as "fret" for sea fog and "skerry" for the rocks that showed at low tide.

Rivers carry more than water. A large river moves millions of tonnes of sediment each year, grinding mountains into sand and spreading it across floodplains and deltas. Where the current slows, the heaviest grains settle first, then the finer silt, and finally the clay, which can stay suspended for days. This sorting is why a delta has coarse sand near its channels and fine mud farther away. Engineers who build dams must plan for it: a reservoir slowly fills with the material the river can no longer carry, and its useful life depends on how fast that happens.

Photosynthesis turns light into chemical energy. In the first stage, pigments in the chloroplast absorb photons and use their energy to split water, releasing oxygen and producing energy carriers. In the second stage, those carriers drive a cycle of reactions that fixes carbon dioxide into sugars. Roughly speaking, six molecules of carbon dioxide and six of water become one molecule of glucose and six of oxygen, although the real pathway has many intermediate steps.

"Do you think the bridge will hold?" asked Tomas.
"It held last winter," said his sister, testing the first plank with her boot. "And the winter before."
"That is not the same as saying it will hold now."
"No," she admitted, and stepped onto it anyway.

A recipe for a simple loaf: mix 500 grams of flour, 10 grams of salt and 7 grams of dried yeast. Add 350 millilitres of warm water and stir until no dry flour remains. Knead for ten minutes, until the dough is smooth and springs back when pressed. Cover it and leave it in a warm place for about an hour, or until it has doubled in size. Shape it, let it rise again for forty minutes, then bake at 220 degrees Celsius for thirty to thirty-five minutes. The loaf is done when it sounds hollow when tapped underneath.

The history of timekeeping is a history of better oscillators. Sundials needed the sun; water clocks needed a steady flow; pendulum clocks, introduced in the seventeenth century, were accurate to about ten seconds a day. Quartz crystals, which vibrate at a precise frequency when an electric field is applied, improved that to a fraction of a second. Atomic clocks count the oscillations of caesium or strontium atoms and would drift by less than a second over millions of years. Modern navigation satellites depend on such clocks, because an error of one microsecond in time corresponds to an error of about three hundred metres in position.

def moving_average(values, window):
    """Return the average of each run of `window` consecutive values."""
    if window <= 0:
        raise ValueError("window must be positive")
    total = sum(values[:window])
    result = [total / window]
    for i in range(window, len(values)):
        total += values[i] - values[i - window]
        result.append(total / window)
    return result

Markets are conversations about the future conducted in prices. When a farmer sells wheat months before the harvest, she exchanges an uncertain income for a certain one, and the buyer accepts the risk in exchange for a chance of profit. Prices move when expectations change: a drought in one region, a new road in another, a rumour that turns out to be false. Economists argue about how quickly prices absorb information, but almost all agree that they absorb it eventually, and that trying to forbid them to move usually creates shortages instead.

In the morning the town square filled slowly. First came the baker with trays of bread still warm enough to steam in the cold air; then the fishmonger, who set out ice and arranged the catch in silver rows; then the woman who sold honey, three kinds, labelled by the flowers the bees had visited: heather, clover, lime. By nine o'clock there were children chasing pigeons between the stalls, and an old man playing an accordion by the fountain, badly but with great enthusiasm.

Questions for review: 1. Why does sediment settle in order of size? 2. What are the two stages of photosynthesis? 3. How accurate was the first pendulum clock? 4. What does a futures contract exchange? 5. Name three things the market in the square sold.

When the second letter came, it was longer. The writer explained that the tin boxes were released from a fishing village on the other side of the strait, that the currents brought most of them to her island within nine days, and that some never arrived at all. "I have sent forty-one," the letter said. "You are the first person who has answered." She looked at the heron drawn at the bottom of the page for a long time, then went to find a tin box of her own.
)TXT";
  return text;
}

}  // namespace libquant::eval
