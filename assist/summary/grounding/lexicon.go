package grounding

// The concept lexicon: each line is a kind letter, a concept id and the
// forms that name it in English, Finnish, Swedish and shared clinical
// shorthand. A form ending in '*' matches any word it begins (inflection,
// derivation); other forms match whole words; a form with spaces matches
// consecutive words. Finnish stems list their consonant-gradation variants
// (rinta*, rinna*). Forms are folded like text (ä→a, ö→o, å→a).
//
// Kinds: F finding, symptom or diagnosis (checked for support and
// polarity); B body site (checked for support); T test or procedure and V
// vital sign (checked for support); O other words that only help match
// paraphrases (never flagged by themselves).
const conceptLexicon = `
F pain: pain*, killing me, arist*, aristus*, palpaatioarka*, ömhet*, ömmar, pressure, tightness, heaviness, puristu*, puristava*, painon tunne, tryckkänsla*, tryckande, tyngdkänsla*, ache, aches, aching, ached, hurt, hurts, hurting, sore*, tender*, discomfort, kipu*, kipe*, kivu*, kivi*, särk*, sark*, sattuu, sattui, koskee, kolottaa, kolotus*, smärt*, ont, värk*, verk*, algia*
F chestpain: angina*, angin*, stenocard*, rintakipu*, rintakivu*, bröstsmärt* = chest + pain
F headache: headache*, cephal*, migraine*, päänsärky*, päänsärk*, migreen*, huvudvärk*, migrän* = head + pain
F fever: fever*, febri*, pyrex*, temperature, temp, kuume*, kuumei*, lämpö*, lämmö*, lampo*, feber*, febril*, afebril*
F cough: cough*, yskä*, yski*, yskö*, hosta*, hosti*, hostn*
F dyspnea: dyspn*, dyspnoe*, andningsbesvär*, andningssvårighet*, andningspåverk*, hengitysvaik*, hengitysongelm*, breathless*, short of breath, shortness of breath, sob, winded, out of breath, catch a breath, catch my breath, catch her breath, catch his breath, hard to breathe, can't breathe, cannot breathe, breathing problem*, trouble with breathing, henkeä ahdistaa, henki ahdistaa, hengästyttää, svårt att andas, tungt att andas, hengenahdist*, hengästy*, hengästy*, andnöd*, andfådd*, andnod*, andfadd*, hengitysvaike*, breathing difficult*, difficulty breathing, trouble breathing
F nausea: nause*, nauseous, queasy, sick to my stomach, pahoinvoi*, oksetta*, oksettan*, pahoin vointi*, etoo, etoi, illamående*, illamaende*, mår illa, ma illa, mådde illa
F vomiting: vomit*, emesis, throw up, throwing up, threw up, oksen*, kräk*, krak*, spy*
F diarrhea: diarrh*, loose stool*, loose bowel*, ripul*, diarré*, diarre*, lös avföring
F constipation: constipat*, ummetu*, ummet*, förstopp*, forstopp*, obstipat*
F dizziness: dizz*, vertigo*, lightheaded*, light-headed*, huima*, huimau*, pyörry*, pyorry*, yrsel*, yr, snurrar
F fatigue: fatigue*, tired*, exhaust*, lethargy*, lethargic, väsy*, vasy*, uupu*, uupum*, trött*, trott*, orkeslös*
F insomnia: insomnia*, sleepless*, can't sleep, trouble sleeping, unettom*, univaike*, sömnlös*, somnlos*, sömnsvårigh*, sömnproblem*
F swelling: swell*, swollen, edema*, oedema*, turvo*, turpo*, turvot*, ödem*, odem*, svullen*, svulln*, svullnad*
F rash: rash*, exanthem*, eruption*, hives, urticari*, ihottum*, nokkosihottum*, utslag*, eksem*, eczem*
F itch: itch*, prurit*, kutin*, kutia*, kutis*, klåd*, klad*, kliar
F bleeding: bleed*, blood loss, haemorrh*, hemorrh*, verenvuot*, vuoto*, vuota*, blöd*, blod*
F numbness: numb, numbness, numbing, numbed, tingl*, paraesth*, paresth*, puutu*, puutum*, tunnott*, pistely*, kihelm*, domn*, stickning*
F weakness: weak*, heikko*, heikot*, heikkou*, voimattom*, svag*, kraftlös*
F palpitations: palpitat*, racing heart, heart racing, sydämentykyty*, tykytys*, tykytt*, hjärtklapp*
F syncope: syncop*, faint*, passed out, pass out, black out, blacked out, blackout*, pyörtyi*, loss of consciousness, loc, lost consciousness, medvetandeförlust*, medvetslös*, medvetande*, tajun*, tajuton*, tajuttom*, pyörtym*, pyörty*, svimn*, svimm*, kollaps*
F anxiety: anxi*, nervous*, ahdistu*, ahdistuneisuu*, jännit*, ångest*, angest*, oro, orolig*
F depression: depress*, low mood, masennu*, masentu*, alakulo*, nedstämd*, nedstamd*
F hypertension: hypertens*, high blood pressure, htn, verenpainetau*, kohonnut verenpaine, korkea verenpaine, korkea verenpaineen, verenpainetauti*, högt blodtryck, hogt blodtryck, blodtryckssjukdom*
F hypotension: hypotens*, low blood pressure, matala verenpaine, alhainen verenpaine, lågt blodtryck
F diabetes: diabet*, dm, dm2, t2dm, iddm, niddm, sugar diabetes, sokeritau*, sockersjuk*
F asthma: asthma*, astma*
F copd: copd, emphysema*, keuhkoahtaumatau*, kat, keuhkoahtaum*, kol, emfysem*
F infection: infect*, infekt*, tulehdu*, tulehdus*, tulehtu*, infektio*, infektion*, inflammat*
F pneumonia: pneumon*, keuhkokuume*, lunginflammation*
F uti: uti, urinary tract infection, virtsatieinfektio*, virtsatietulehdu*, vti, urinvägsinfektion*, cystit*, kystiit*, blåskatarr*
F heartattack: myocardial infarct*, heart attack, mi, stemi, nstemi, infarct*, sydäninfarkt*, infarkti*, hjärtinfarkt*
F stroke: stroke*, cva, tia, aivoinfarkt*, aivohalvau*, aivoveren*, halvau*, slaganfall*, hjärninfarkt*, stroke
F heartfailure: heart failure, chf, hfref, hfpef, sydämen vajaatoimin*, sydänvika*, hjärtsvikt*, sydamen vajaatoimin*
F afib: atrial fibrillation, afib, a-fib, eteisvärin*, eteisvarin*, förmaksflimmer*, formaksflimmer*, flimmer*
F cancer: cancer*, carcinom*, tumou*, tumor*, malignan*, syöpä*, syöva*, kasvai*, cancer, tumör*, tumor
F fracture: fractur*, fx, ~broken, ~break, murtu*, murtum*, fraktur*, bruten, brutit
F sprain: sprain*, strain*, twist*, rolled, vääntyi, vääntänyt, väänsin, vään*, vääntö*, kääntyi, kääntynyt, käänsin, muljah*, nyrjä*, distors*, stukade, vrickade, vred, nyrjäh*, nyrjähd*, venähd*, venäht*, stukat*, stukn*, vrickn*
O injury: injur*, trauma*, vamma*, vammo*, loukkaa*, loukkaantu*, skada*, skadad*, skadan
F wound: wound*, laceration*, ~cut, haava*, sår, sar
F fall: ~fall, ~falls, ~fell, ~fallen, ~falling, kaatu*, kaatum*, fall, föll, foll, ramlade, ramla*
F obesity: obes*, overweight, lihavu*, ylipain*, fetma*, övervikt*, overvikt*
F allergy_symptom: anaphyla*, angioedema*, anafylak*, anafylax*
F smoking: smok*, cigarette*, tobacco*, tupak*, savuk*, polttaa, poltan, poltti, polttanut, poltellut, polttele*, polta, poltat, poltatko, röker, röka, rökare, rökning*, rökt*, cigarett*, tobak*, snus*, nuuska*
F alcohol: alcohol*, ~drink*, beer*, wine*, etoh, alkoholi*, olut*, viini*, ~juo, ~juon, ~juonut, alkohol*, öl, vin, ~dricker
O drugabuse: drug abuse, drug use, illicit drug*, illegal drug*, illegal substance*, harder drugs, hard drugs, recreational drug*, street drug*, iv drug*, cocaine, heroin*, marijuana, cannabis*, amphetamin*, huume*, kannabis*, amfetamiini*, narkotika*, droger, drogmissbruk*, knark*, amfetamin*
F pregnancy: pregnan*, raskau*, raskaana, gravid*
F sorethroat: sore throat, pharyng*, kurkkukipu*, halsont*, ont i halsen = throat + pain
F runnynose: runny nose, rhinorr*, rhinit*, nuha*, snuva*, rinit*, nasal congestion, stuffy nose, nenä tukossa, tukkoinen nenä, nästäppa*
F chills: chill*, rigor*, shiver*, vilunväristy*, vilu*, frossa*, frysa*, fryser
F sweating: sweat*, diaphores*, hikoil*, hikoi*, hiki*, svett*, svettn*
F weightloss: weight loss, lost weight, losing weight, laihtu*, laihtum*, painonlasku*, viktminskning*, gått ner i vikt, tappat vikt
O appetite: appetite*, ruokahalu*, aptit*
F confusion: confus*, disorient*, sekav*, sekaisin, förvirr*, forvirr*
F seizure: seizure*, convuls*, epilep*, kouristu*, kouristel*, kramp*, epilepti*
F stiffness: stiff*, jäykk*, jaykk*, jäyky*, stel*
F limp: limp*, ontu*, linka*, halta*
F burning: burn*, polte*, poltta*, kirvely*, kirvel*, sveda*, sved*, bränn*
F urination: urinat*, pee, peeing, frequency of urination, nocturi*, polyur*, go to the bathroom, wake up to pee, yövirtsai*, tiheävirtsai*, runsasvirtsai*, nokturi*, polyuri*, vattenkast*, kissa, kissar, kissade, virtsa*, virtsaam*, kirvelee, pissa*, urin*, miktion*
F bloodinstool: melena*, melaena*, meleena*, hematochez*, haematochez*, black stool*, tarry stool*, bloody stool*, rectal bleeding, bleeding from the rectum, bleeding per rectum, musta uloste*, mustat ulosteet, svart avföring, blod i avföringen, blood in stool, veriuloste*, veristä ulostetta, blod i avföringen
F heartburn: heartburn*, reflux*, gerd, närästy*, narasty*, refluksi*, halsbränn*
F ulcer: ulcer*, haavau*, haavauma*, sår
F murmur: murmur*, sivuääni*, sivuaani*, blåsljud*
F wheeze: wheez*, vinku*, hinkuu, piipit*, pipande, väsande, väsning*
F crackles: crackle*, rales, rahina*, rahin*, rassel*, krepitation*
F hearingloss: hearing loss, deaf*, kuulo*, huonokuulo*, hörsel*, horsel*, dövhet*
F visionloss: vision loss, blurr*, näkö*, nako*, sumea*, synförsämr*, synnedsätt*, dimsyn*, suddig*
F redness: ~red, redness, erythem*, punoit*, punai*, rodnad*, röd*, rod
F lump: lump*, mass, nodule*, patti*, kyhmy*, kyhmyj*, knöl*, knol*, resistens*
F discharge: ~discharge*, erite, eritettä, eritteitä, eritystä, eritys*, flytning*, sekret*
F cramp: cramp*, kramp*, suonenveto*, lihaskramp*
F hypothyroid: hypothyr*, kilpirauhasen vajaatoim*, underfunktion*, hypotyreo*, hypotyre*
F hyperlipidemia: hyperlipid*, dyslipid*, hypercholesterol*, high cholesterol, kolesteroli*, cholesterol*, kolesterol*, lipid*, rasva-arvo*, blodfett*
F kidneydisease: ckd, renal failure, kidney disease, kidney failure, munuaisten vajaatoim*, munuaistauti*, njursvikt*, njursjukdom* = kidney
F arthritis: arthrit*, artrit*, niveltulehdu*, nivelreum*, reuma*, ledgångsreumat*, osteoarthr*, artroo*, artros*, nivelrikk*
F gout: gout*, kihti*, kihdi*, gikt*
F suicidality: suicid*, self-harm*, self harm*, harming yourself, harm yourself, itsetuho*, itsemurha*, vahingoittaa itseään, självmord*, suicidal*, självskad*
F myalgia: myalg*, muscle pain*, muscle ache*, aching muscles, sore muscles, lihaskipu*, lihassärky*, lihaskivu*, muskelvärk*, muskelsmärt*, myalgi* = muscle + pain
F arthralgia: arthralg*, joint pain*, aching joints, nivelkipu*, nivelsärky*, nivelkivu*, ledvärk*, ledsmärt*, artralgi* = joint + pain
F hematuria: hematur*, haematur*, blood in the urine, blood in my urine, blood in urine, bloody urine, verivirtsai*, veri virtsassa, hematuri*, blod i urinen = bleeding + urination
F cyanosis: cyano*, turned blue, turning blue, blue lips, bluish, syanoo*, sinerty*, sinertävä*, cyanos*, blåfärg*, blåaktig*
F lymphadenopathy: lymphaden*, swollen gland*, swollen lymph node*, enlarged lymph node*, imusolmukesuurentum*, suurentune* imusolmuk*, lymfkörtelförstor*, lymfadenopat*, svullna lymfkörtlar
F thrombosis: thromb*, blood clot*, ~clot*, dvt, embol*, veritulppa*, tromboo*, laskimotukos*, blodpropp*, trombos*
F thirst: polydips*, thirst*, jano*, janottaa, törst*
F hunger: polyphag*, hungry, nälkä*, hunger*
F dysuria: dysur*, painful urination, burning when urinating, burning on urination, hurts to pee, kirvelee virtsatessa, virtsaamiskipu*, sveda när jag kissar, smärta vid vattenkastning = urination + pain
F hypoglycemia: hypoglyc*, hypoglyk*, low sugar*, low blood sugar*, sugar low, hypo, hypos, matala verensokeri, matalat verensokerit, alhainen verensokeri, insuliinisokki*, känningar, lågt blodsocker, hypoglykemi* = glucose + low
F hyperglycemia: hyperglyc*, hyperglyk*, high sugar*, high blood sugar*, korkea verensokeri, korkeat verensokerit, högt blodsocker, hyperglykemi* = glucose + elevated
F locking: locking, locks up, locked up, catching, lukkiutu*, lukkiutum*, låsning*, låser sig
F givingway: giving way, gave way, gives way, give way, instability, unstable, pettää, petti, pettänyt, viker sig, instabil*
F weightbearing: bear weight, bearing weight, weight bearing, weight-bearing, weightbearing, put weight on, varata*, varaa, varaamaan, varaus*, belast*, stödja på
F sputum: sputum*, phlegm*, mucus*, expectorat*, yskös*, ysköks*, limaa, limaista, lima, slem*, upphostning*, sputum
F hemoptysis: hemopty*, haemopty*, coughing up blood, blood in the sputum, veriyskö*, veriyskä*, veristä ysköstä, blodiga upphostningar, blodhosta*, hemoptys*
F tinnitus: tinnitus*, ringing in the ears, ringing in my ears, korvien soi*, korvat soivat, korvan soi*, öronsus*, oronsus*, tinnitus
F conjunctivitis: conjunctivit*, pink eye, sidekalvontulehdu*, silmätulehdu*, konjunktivit*, ögoninflammation*
F dysphagia: dysphag*, trouble swallowing, difficulty swallowing, hard to swallow, nielemisvaike*, nielemisvaik*, dysfagi*, sväljningssvårighet*, sväljsvårighet*, svårt att svälja
F hoarseness: hoarse*, käheä*, kähe*, äänen käheys, hes, heshet*
F epistaxis: epistaxis, nosebleed*, nose bleed*, nenäverenvuoto*, nenäverenvuod*, näsblod*, naesblod*
F bloating: bloat*, turvottaa vatsaa, vatsan turvotus, ilmavaivat, ilmavaiv*, uppblåst*, gasbildning*
F weightgain: weight gain, gained weight, gaining weight, painonnousu*, painoa noussut, lihonut, viktuppgång*, gått upp i vikt, ökat i vikt
F snoring: snor*, kuorsa*, snark*
F apnea: apnea*, apnoea*, apnoe*, uniapnea*, sömnapné*, apné*
F incontinence: incontinen*, leaking urine, leakage of urine, inkontinens*, inkontinenssi*, virtsankarkailu*, karkailu*, urinläckage*
F tremor: tremor*, shaking, shaky, tremble*, vapin*, vapis*, skak*, darr*
F bruise: bruis*, ecchymos*, mustelm*, blåmärk*, blamark*, hematom*
F bite: bite, bitten, bee sting, wasp sting, insect sting, stung, tick bite, purema*, ampiaisenpisto*, hyönteisenpisto*, punkinpurema*, bett, fästingbett*, fästingen, punkki*
F speech: speech difficult*, slurred speech, dysarthr*, aphasi*, puhevaike*, puheen puuroutu*, sammaltaa, afasi*, talsvårighet*, sluddrigt tal, dysartri*
F paralysis: paralys*, paresis, pares*, halvaantu*, halvaus*, förlamning*, pareesi*
F dementia: dementia*, alzheimer*, muistisairau*, muistihäiri*, minnesstörn*, demens*, memory loss, muisti*
F sinusitis: sinusit*, poskiontelotulehdu*, bihålei*, sinuiit*
F otitis: otitis*, ear infection, korvatulehdu*, öroninflammation*, otiit*

B chest: chest*, thorax*, thoracic, rinta*, rinna*, rintake*, bröst*, brost*, torax*, thorax
B head: head*, pää, pään, päähän, päässä, päätä, paata, paa, paan, paahan, paassa, pää*, huvud*, kranie*, cranial
B abdomen: abdom*, abd, belly*, tummy*, stomach*, epigastr*, vatsa*, maha*, mahalauk*, buk*, mage*, magen, magsäck*
B back: ~back, ~backs, lumbar, lower back, upper back, backache*, lbp, selkä*, selä*, selk*, sela*, rygg*, ländrygg*, landrygg*
B neck: neck*, niska*, kaula*, nacke*, nack*, hals*, cervical
B throat: throat*, kurkku*, kurku*, nielu*, hals*, svalg*
B knee: knee*, polvi*, polve*, knä*, kna*, knät, knan
B hip: hip, hips, lonkka*, lonka*, lonkk*, höft*, hoft*
B shoulder: shoulder*, olka*, ola*, olkapää*, hartia*, hartio*, axel*, axl*
B ankle: ankle*, nilkka*, nilka*, nilkk*, fotled*, vrist*
B wrist: wrist*, ranne*, rante*, rannet*, handled*
B elbow: elbow*, kyynär*, kyynar*, armbåg*, armbag*
B hand: ~hand, ~hands, käsi*, käde*, käte*, kasi*, kade*, kate*, hand*, händer*, hander
B arm: arm, arms, upper arm, upper limb*, yläraaj*, övre extremitet*, forearm*, käsivar*, kasivar*, olkavar*, arm*
B leg: leg, legs, lower leg, lower limb*, alaraaj*, nedre extremitet*, jalka*, jala*, jalk*, sääri*, sääre*, saari*, saare*, ben, benet, benen, vad*, vaden, calf, calves, pohje*, pohkee*
B foot: foot, feet, jalkaterä*, jalkapohja*, jalkater*, fot, fötter*, fotter*, foten, heel*, kantapää*, häl*
B eye: eye, eyes, silmä*, silma*, öga*, oga*, ögon*, ogon*
B ear: ear, ears, eardrum*, tympanic*, tm, tms, tärykalvo*, trumhinn*, korva*, öra, örat, öron, öronen, öronsmärt*, öroninflammation*
B nose: nose*, nasal, nenä*, nena*, näsa*, nasa*
B lung: lung*, pulmon*, keuhko*, lunga*, lungor*, lungan*
B heart: heart*, cardia*, sydä*, syda*, hjärt*, hjart*
B kidney: kidney*, renal, munuai*, njur*
B liver: liver*, hepat*, maksa*, lever*
B skin: skin*, derm*, iho*, hud*
B finger: finger*, thumb*, sormi*, sorme*, peukalo*, finger*, tumme*
B toe: toe, toes, varvas*, varpa*, tårna, tån
B joint: joint*, nivel*, leder, lederna, leden
B muscle: muscl*, lihas*, muskel*, muskl*
B bladder: bladder*, rakko*, rako*, urinblås*, blåsa*
B bone: bone*, luu*, skelet*, ben
B gallbladder: gallbladder*, gall bladder, cholecyst*, gallstone*, sappirakko*, sapenrakko*, sappikivi*, kolekyst*, gallblås*, gallsten*, kolecyst*
B appendix: appendix, appendic*, appendect*, umpilisäke*, umpisuoli*, appendekt*, blindtarm*
B uterus: uterus, uterine, womb, hysterect*, kohtu*, hysterekt*, livmoder*
B tonsils: tonsil*, nielurisa*, halsmandel*, halsmandl*
B thigh: thigh*, reisi*, reide*, lår, låret, lårets
B buttock: buttock*, gluteal, pakara*, pakaro*, skink*, säte
B groin: groin*, inguinal, nivu*, ljumsk*
B jaw: jaw*, mandib*, leuka*, leuan, leuassa, käke*, käk*
B forehead: forehead*, otsa*, panna*, pannan
B lip: lip, lips, huuli*, huule*, läpp, läppen, läppar, läpparna
B tongue: tongue*, kieli, kielen, kielessä, tunga*, tungan
B rib: rib, ribs, kylkiluu*, kylki*, kylje*, revben*
B spine: spine, spinal, vertebr*, selkäranka*, selkärank*, nikam*, ryggrad*
B pelvis: pelvi*, lantio*, bäcken*
B rectum: rect*, anal, anus, peräsuoli*, peräaukko*, ändtarm*, analt
B breast: breast*, nipple*, rintarauhanen*, nänni*, bröstvårt*, bröstkört*
B armpit: armpit*, axilla*, kainalo*, armhål*
B mouth: mouth*, ~oral, suu*, mun, munnen, tooth, teeth, hammas*, hampa*, tand*, tänder*

V bp: blood pressure, bp, rr, verenpaine*, verenpaineen, vp, blodtryck*, blodtryck, systolic, diastolic, systol*, diastol* = hypertension
V hr: heart rate, pulse*, hr, bpm, syke*, sykkee*, pulssi*, puls*, hjärtfrekvens*, slag per minut, slag/min, lyöntiä, lyontia
V rr_resp: respiratory rate, breathing rate, resp, af, hengitystiheys*, andningsfrekvens*, rr
V spo2: saturation*, sat, sats, spo2, o2 sat*, oxygen saturation, saturaatio*, happisaturaatio*, happikyllästy*, syremättnad*, syremattnad*, saturation*
V weight: weight*, weigh*, weighs, kg, kilo*, paino*, painaa, vikt*, väger, vägde
V height: height*, tall, cm, pituus*, pituu*, pitkä, längd*, langd*
V glucose: glucose*, blood sugar, sugar*, glukoosi*, verensokeri*, sokeri*, glukos*, blodsocker*, p-gluk*, gluk* = diabetes
V temperature: temperature, temp, lämpö*, lampo*, lämmö*, ruumiinlämpö*, kroppstemperatur*, tempen, °c, astetta, grader

T ecg: ecg, ekg, electrocardiogram*, sydänfilmi*, sydanfilmi*, sydänsähkökäyrä*, elektrokardiogram*
T xray: x-ray*, xray*, x ray*, radiograph*, röntgen*, rontgen*, rtg, thx, kuva*, kuvau*, kuvata*, imaging, bild*, slätröntgen*
T ct: ct, cat scan, tietokonetomograf*, datortomograf*, skiktröntgen*, dt
T mri: mri, mrt, magneettikuva*, magnetkamera*, magnetresonan*
T ultrasound: ultrasound*, echo*, sonograph*, ultraääni*, ultraaani*, ultraljud*, kaiku*, sydämen ultra*
T bloodtest: blood test*, blood work, bloodwork, labs, lab, laboratory, verikoe*, verikokee*, laboratorio*, labra*, blodprov*, labb*, prov, proverna, näyte*, nayte*, näytte*, sample*, prov*
T urinetest: urine test*, urinalysis, urine sample, virtsanäyte*, virtsakoe*, urinprov*, u-sticks, stix
T biopsy: biops*, koepala*, vävnadsprov*
T referral: refer*, lähete*, lahete*, lähett*, remiss*, remitt*
T surgery: surgery*, surgical*, operat*, leikkau*, leikat*, leikkaa*, kirurg*, ingrepp*

O medicine: medicine*, medication*, meds, drug*, pill*, tablet*, lääke*, laake*, lääki*, laaki*, tabletti*, läkemed*, lakemed*, medicin*, tablett*
O patient: patient*, pt, pat, pot, potilas*, potilaa*, client, asiakas*, asiakka*, klient*, he, she, hän, han, hon
O doctor: doctor*, physician*, gp, md, lääkäri*, laakari*, läkare*, lakare*, doc
O nurse: nurse*, hoitaja*, sairaanhoitaja*, sjuksköt*, sköterska*
O worse: worse*, worsen*, deteriorat*, paheni*, pahene*, pahemp*, pahent*, huononi*, huonone*, huonont*, huonomp*, sämre*, samre*, försämr*, forsamr*, förvärr*, forvarr*
O better: better, improv*, resolv*, settl*, helpott*, parani*, parane*, parantu*, parempi*, parem*, lievitt*, lievent*, bättre*, battre*, förbättr*, forbattr*, lindr*
O start: start*, begin*, began, initiat*, commenc*, aloit*, alkoi, alkanut, alkaa, börja*, borja*, började, påbörja*, sätts in, sätter in, satter in, satte in, insatt*, insätt*
O stop: stop*, discontinu*, quit, cease*, lopet*, lopett*, tauot*, seponoi*, sluta*, slutat*, avslut*, utsatt*, utsättning*, sätts ut, satts ut, sätter ut, satter ut, satte ut, sätt ut, satt ut, seponer*
O continue: continu*, jatk*, fortsät*, fortsatt*
O increase: increas*, rais*, up-titrat*, nost*, lisä*, lisa*, suurenn*, öka*, oka*, höj*, hoj*
O decrease: decreas*, reduc*, lower*, taper*, laske*, lasku*, vähen*, vahen*, pienen*, minsk*, sänk*, sank*
O home: home, kotiin, koti*, kotona, hem, hemma
O work: work*, job, työ*, tyo*, arbet*, jobb*
O week: week*, viikko*, viiko*, vko, vecka*, veck*
O day: day, days, daily, päivä*, paiva*, vrk, vuorokau*, dag, dagar, dygn*, dagl*
O month: month*, kuukau*, kk, månad*, manad*, mån
O year: year*, yr, yrs, vuosi*, vuode*, vuot*, år, ar, åren, aren
O hour: hour*, hrs, tunti*, tunni*, tunnin, timme*, timmar*, tim
O night: night*, nightly, yö*, yo, yöllä, yolla, öisin, oisin, natt*, nätter*, natten
O morning: morning*, aamu*, aamul*, morgon*, morgn*, morgonen
O evening: evening*, ilta*, illa*, kväll*, kvall*
O walk: walk*, kävel*, kavel*, gå, ga, går, gick, promen*
O sleep: sleep*, slept, nukku*, nukkuu, nukun, uni, unen, sömn*, somn*, sover, sova
O eat: eat*, ate, food, meal*, syö*, syo*, söi, ruoka*, ruoa*, äta, ata, äter, mat, måltid*
O drinkwater: water, fluid*, vesi*, vett*, neste*, vatten, vätska*
O exercise: exercis*, physical activity, liikun*, liikku*, motion*, träna*, trana*
O stairs: stair*, porta*, portaa*, trapp*
O normal: normal*, unremarkable, fine, ok, okay, clear, good, normaali*, norm*, hyvä*, hyva*, siisti*, puhdas*, puhtaat, kunnossa, bra, fin, ua, u.a., nad, wnl, hyvässä kunnossa
O follow: follow*, followup, follow-up, recheck, revisit, review*, kontrol*, seuran*, uusintakäyn*, återbesök*, aterbesok*, uppföljning*, uppfoljning*
O call: call*, phone*, soitt*, soita*, puhelin*, ring*, telefon*
O worry: worr*, concern*, huoles*, huoli*, huolestu*, oroa*, orolig*
O severe: severe*, bad, terrible, intense, strong, kova*, voimakas*, voimakka*, vaikea*, kraftig*, svår*, svar*
O mild: mild*, slight*, little, lievä*, lieva*, vähä*, vaha*, lätt*, latt*, lindrig*
O sudden: sudden*, acute*, abrupt*, äkill*, akill*, äkkiä, akuut*, plötslig*, plotslig*, akut*
O chronic: chronic*, long-term, longstanding, pitkäaikai*, krooni*, krooninen, kronisk*, långvarig*
O constant: constant*, continuous*, persistent*, all the time, jatkuva*, koko ajan, jatkuvasti, ständig*, hela tiden, konstant*
O recurrent: recurr*, recurrent*, again, toistu*, uusiutu*, återkommande*, aterkommande*
O radiate: radiat*, spread*, säteil*, sateil*, strål*, stral*
O exertion: exert*, exercise*, rasitu*, rasite*, ansträng*, anstrang*
O rest: rest, resting, lepo*, levo*, levossa, vila*, vilo*
O sit: sit*, istu*, sitta*, sitter, satt
O stand: stand*, stood, seiso*, stå, sta, står
O lie: lie, lying, lay, makaa*, makuu*, maata, ligga*, ligger
O bend: bend*, bent, kumartu*, taivu*, taivut*, böj*, boj*
O lift: lift*, nost*, lyft*
O move: move*, moving, movement*, liik*, rör*, ror*
O touch: touch*, kosket*, kosk*, palpat*, painel*, palp*, tryck*, berör*
O range: range of motion, rom, liikelaajuu*, rörlighet*, rorlighet*
O family: family, familj*, perhe*, suku*, mother, father, äiti*, isä*, mor, far, mamma, pappa
O child: child*, kid*, son, daughter*, lapsi*, lapse*, poika*, tytär*, tytt*, barn*, dotter*
O wife: wife, husband, spouse, partner*, vaimo*, mies, miehe*, puoliso*, fru*, make, maken
O history: history, hx, anamnes*, esitiedo*, tausta*, historia*, sjukhistori*
O exam: exam*, status, statuksessa, tutki*, undersök*, undersok*, auscult*, kuuntel*, auskult*
O prescribe: prescri*, määrä*, maara*, resept*, ordiner*, förskriv*, forskriv*, recept*
O dose: dose*, dosage*, annos*, annost*, dos*, dosering*
O test: test*, testi*, koe, kokeet, kokee*, prov*
O result: result*, tulos*, tulokse*, tulokset, resultat*, svar*, fynd*, löydö*, loydo*
O elevated: elevat*, high*, raised, kohon*, korke*, koholla, förhöj*, forhoj*, hög*, hog*, höga
O low: low*, decreased, matala*, alhai*, mata*, låg*, lag*
O mildly: slightly, lievästi, lätt, lievasti
O hospital: hospital*, ed, emergency*, sairaala*, päivystys*, paivystys*, päivystyk*, sjukhus*, akuten, akutmottagning*
O ambulance: ambulance*, ambulanssi*, ambulans*
`

// stopwords are function words of the three languages and the words of
// note-writing and talk that carry no checkable fact. They are never
// flagged and never count towards support.
const stopwords = `
a an the and or of to in on at by for from with as is are was were be been being am do does did done have has had having
it its it's this that these those there here then than so such very really just also too not no yes yeah yep okay ok oh um uh
mm hmm uh-huh mm-hmm i i'm i've i'd me my mine we our us you your you're he him his she her they them their what which who whom
whose when where why how all any some each every both either neither other another more most much many few lot lots bit
can could would should will shall may might must let's lets get got gets getting go goes going went gone come came coming
say says said tell told telling ask asked know knew think thought feel feels feeling felt like look looks looked seem seems
about around over under into onto out up down off again still ever never now today then well right sure thing things
kind sort way time times one ones someone something anything nothing everything anyone everyone
patient pt pts patient's reports reported report reporting states stated state stating notes noted note says describes described
describing complains complained complaining presents presented presenting endorses endorsed endorsing admits admitted mentions
mentioned explains explained confirms confirmed indicates indicated per currently current recently recent
which whose while during since until before after because if though although however
ja tai sekä seka eli että etta kun jos niin nyt sitten vielä viela myös myos jo vain vaan kuin mutta koska vaikka
on ole ollut olla oli olen olet olemme olette ovat olivat olisi olisin oon oo ollu
minä mina mä ma sinä sina sä sa hän han me te he se ne tämä tama tää taa tuo nämä nama ne sen sitä sita siitä siita siihen
minun minulla minulle minua minusta mulla mulle mua musta sinulla sulla teillä teilla teille teidän teidan hänellä hanella hänen hanen
sillä silla siinä siina tässä tassa täällä taalla siellä siella
joo juu kyllä kylla niin aha okei selvä selva hyvä no noh tota tuota öö oo kiitos
mitä mita mikä mika missä missa miten kuinka milloin kuka ketkä
potilas potilaan potilaalla potilaalle potilasta pot kertoo kertonut kertoi kuvaa kuvailee ilmoittaa ilmoitti toteaa todettu
todetaan kokee koki mukaan kokenut raportoi raportoitu tuo tuli tulee toi
och eller samt att som när nar om så sa nu sedan sen också ocksa bara men eftersom fast
är ar var varit vara blir blev har hade haft
jag mig min mitt mina du dig din ditt han honom hans hon henne hennes vi oss vår var ni er de dem deras den det denna detta dessa
där dar här har ja jo nej mm okej tack precis
vad vilken vilket vilka hur varför varfor
use uses used using take takes took taking taken käyttää kayttaa käyttänyt kayttanyt käyttää käyttö kaytto käytössä kaytossa ottaa ottanut otan ottaa otti tar tog tagit använder anvander använt anvant
patienten patientens pat uppger uppgav berättar berattar berättade anger angav beskriver beskrev upplever upplevde
`
