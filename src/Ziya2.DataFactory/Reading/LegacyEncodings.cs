using System.Text;

namespace Ziya2.DataFactory.Reading;

/// <summary>
/// Recovers text in legacy Chinese encodings (GB18030/GBK/GB2312, Big5) when bytes are not valid UTF-8 (paper §2.1 DP,
/// "encoding standardisation"). GB18030 can decode almost any byte string, so a decoding that merely succeeds proves
/// nothing: each candidate is scored by how many of its ideographs are among the most frequent Chinese characters
/// (simplified and traditional), as character-distribution detectors do, and the best one above
/// <see cref="MinCommonShare"/> wins. Mis-decoded text is made of rare characters and scores near zero.
/// </summary>
public sealed class LegacyEncodings
{
    /// <summary>Share of decoded ideographs that must be common characters (real text: ~0.6–0.8).</summary>
    public const double MinCommonShare = 0.3;

    // The most frequent characters of modern Chinese (simplified), and traditional forms of the frequent ones that differ.
    const string Common =
        "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坏兴切" +
        "們這個時為國說來對會學過還發現點與從將應開關問題後當種義經實頭兩動長業見樣體書變聽車電話門際讓認識議麼裡給無於進種東機氣將論資產術歲陽處總師員報車軍難愛親達運覺線結線傳質類歡樂園鐵網灣華陸區";

    static readonly HashSet<int> CommonSet = Common.EnumerateRunes().Select(r => r.Value).ToHashSet();
    readonly Encoding[] _candidates;

    static LegacyEncodings() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <param name="names">Encoding names to try in order, e.g. <c>gb18030</c>, <c>big5</c>.</param>
    public LegacyEncodings(IEnumerable<string> names) =>
        _candidates = names.Select(n => Encoding.GetEncoding(n, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback)).ToArray();

    public bool Enabled => _candidates.Length > 0;

    /// <summary>The most plausible decoding of <paramref name="bytes"/>, or false when none is plausible.</summary>
    public bool TryDecode(byte[] bytes, out string text, out string encoding)
    {
        text = ""; encoding = "";
        double best = MinCommonShare;
        foreach (var candidate in _candidates)
        {
            string decoded;
            try { decoded = candidate.GetString(bytes); }
            catch (DecoderFallbackException) { continue; }
            int ideographs = 0, common = 0;
            foreach (var r in decoded.EnumerateRunes())
            {
                if (r.Value is < 0x3400 or > 0x9FFF) continue;
                ideographs++;
                if (CommonSet.Contains(r.Value)) common++;
            }
            if (ideographs == 0) continue;
            double share = (double)common / ideographs;
            if (share > best) { best = share; text = decoded; encoding = candidate.WebName; }
        }
        return encoding.Length > 0;
    }
}
