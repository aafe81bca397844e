/**
 * The Payment Page's texts. English is the reference; every other language
 * must translate every key (the `Record<MessageKey, string>` type makes a
 * missing key a compile error). `{name}` placeholders are filled by `text()`,
 * and their values are escaped by the views, never here.
 *
 * @example
 * text('de', 'payWithPaypal', { amount: '10,00 $' }) // 'Mit PayPal 10,00 $ bezahlen'
 */
const english = {
  documentTitle: 'Payment',
  testMode: 'Test mode: no real money moves.',
  paymentTo: 'Payment to {merchant}',
  amount: 'Amount',
  description: 'Description',
  order: 'Order',
  chooseMethod: 'Choose a payment method',
  methodPaypal: 'PayPal',
  methodPaypalHint: 'Pay with your PayPal account. You will approve the payment at PayPal.',
  payWithPaypal: 'Pay {amount} with PayPal',
  busy: 'Taking you to PayPal…',
  waitingTitle: 'Connecting to PayPal',
  waitingText: 'Please wait a moment while we prepare your payment at PayPal. This page refreshes by itself.',
  waitingSlow: 'This is taking longer than usual. Please keep this page open.',
  waitingStalled: 'We could not reach PayPal right now. Please try again in a few minutes.',
  refreshNow: 'Check again',
  approveTitle: 'Approve your payment at PayPal',
  approveText: 'Your payment is waiting for your approval at PayPal.',
  continueToPaypal: 'Continue to PayPal',
  pendingTitle: 'Your payment is being processed',
  pendingText: 'PayPal is confirming your payment. This page refreshes by itself. You may also close it: the shop will be told the result.',
  pendingStalled: 'Confirming this payment takes longer than usual. You may close this page: the shop will be told the result.',
  successTitle: 'Payment successful',
  successText: 'Thank you. Your payment of {amount} has been received.',
  declineTitle: 'Payment not completed',
  declineCancelled: 'You cancelled the payment at PayPal. No money was taken.',
  declineDeclined: 'PayPal declined the payment. No money was taken.',
  declineExpired: 'The payment was not completed in time. No money was taken.',
  declineOther: 'The payment could not be completed. No money was taken.',
  returnToShop: 'Return to the shop',
  closeWindow: 'You can close this window now.',
  tryAgain: 'Try again',
  errorTitle: 'This payment cannot be opened',
  errorMissing: 'The payment link is incomplete. Missing: {names}.',
  errorInvalid: 'The payment link contains an invalid value ({detail}).',
  errorSignature: 'The payment link was changed or is not signed correctly. Please return to the shop and start the payment again.',
  errorProject: 'The shop this payment link belongs to is not known.',
  errorExpired: 'This payment link has expired. Please return to the shop and start the payment again.',
  errorConflict: 'This order number was already used for a different payment. Please return to the shop and start again.',
  errorRecurringUnsupported: 'Saving PayPal for future payments (the "recurring" parameter) is not supported by this Payment Page yet.',
  errorMethodUnavailable: 'No payment method is available for this shop.',
  errorPaymentRefused: 'This payment cannot be made: {detail}.',
  errorLinkNotFound: 'This payment link does not exist.',
  errorNotStarted: 'This payment has not been started. Please open the payment link again.',
  errorInternal: 'Something went wrong on our side. Please try again in a moment.',
  errorCode: 'Error code',
  linkPaidTitle: 'Already paid',
  linkPaidText: 'This payment link has already been paid. Thank you.',
  footer: 'Secure payment by Gatehouse',
} as const;

export type MessageKey = keyof typeof english;
type Catalog = Readonly<Record<MessageKey, string>>;

const german: Catalog = {
  documentTitle: 'Zahlung',
  testMode: 'Testmodus: Es wird kein echtes Geld bewegt.',
  paymentTo: 'Zahlung an {merchant}',
  amount: 'Betrag',
  description: 'Beschreibung',
  order: 'Bestellung',
  chooseMethod: 'Zahlungsart wählen',
  methodPaypal: 'PayPal',
  methodPaypalHint: 'Mit Ihrem PayPal-Konto bezahlen. Sie bestätigen die Zahlung bei PayPal.',
  payWithPaypal: 'Mit PayPal {amount} bezahlen',
  busy: 'Sie werden zu PayPal weitergeleitet…',
  waitingTitle: 'Verbindung zu PayPal',
  waitingText: 'Einen Moment bitte, wir bereiten Ihre Zahlung bei PayPal vor. Diese Seite aktualisiert sich von selbst.',
  waitingSlow: 'Das dauert länger als üblich. Bitte lassen Sie diese Seite geöffnet.',
  waitingStalled: 'PayPal ist gerade nicht erreichbar. Bitte versuchen Sie es in einigen Minuten erneut.',
  refreshNow: 'Erneut prüfen',
  approveTitle: 'Zahlung bei PayPal bestätigen',
  approveText: 'Ihre Zahlung wartet auf Ihre Bestätigung bei PayPal.',
  continueToPaypal: 'Weiter zu PayPal',
  pendingTitle: 'Ihre Zahlung wird bearbeitet',
  pendingText: 'PayPal bestätigt Ihre Zahlung. Diese Seite aktualisiert sich von selbst. Sie können sie auch schließen: Der Shop erfährt das Ergebnis.',
  pendingStalled: 'Die Bestätigung dauert länger als üblich. Sie können diese Seite schließen: Der Shop erfährt das Ergebnis.',
  successTitle: 'Zahlung erfolgreich',
  successText: 'Vielen Dank. Ihre Zahlung über {amount} ist eingegangen.',
  declineTitle: 'Zahlung nicht abgeschlossen',
  declineCancelled: 'Sie haben die Zahlung bei PayPal abgebrochen. Es wurde kein Geld abgebucht.',
  declineDeclined: 'PayPal hat die Zahlung abgelehnt. Es wurde kein Geld abgebucht.',
  declineExpired: 'Die Zahlung wurde nicht rechtzeitig abgeschlossen. Es wurde kein Geld abgebucht.',
  declineOther: 'Die Zahlung konnte nicht abgeschlossen werden. Es wurde kein Geld abgebucht.',
  returnToShop: 'Zurück zum Shop',
  closeWindow: 'Sie können dieses Fenster jetzt schließen.',
  tryAgain: 'Erneut versuchen',
  errorTitle: 'Diese Zahlung kann nicht geöffnet werden',
  errorMissing: 'Der Zahlungslink ist unvollständig. Es fehlt: {names}.',
  errorInvalid: 'Der Zahlungslink enthält einen ungültigen Wert ({detail}).',
  errorSignature: 'Der Zahlungslink wurde verändert oder ist nicht korrekt signiert. Bitte kehren Sie zum Shop zurück und starten Sie die Zahlung erneut.',
  errorProject: 'Der Shop, zu dem dieser Zahlungslink gehört, ist nicht bekannt.',
  errorExpired: 'Dieser Zahlungslink ist abgelaufen. Bitte kehren Sie zum Shop zurück und starten Sie die Zahlung erneut.',
  errorConflict: 'Diese Bestellnummer wurde bereits für eine andere Zahlung verwendet. Bitte kehren Sie zum Shop zurück und beginnen Sie erneut.',
  errorRecurringUnsupported: 'Das Speichern von PayPal für künftige Zahlungen (Parameter „recurring“) wird von dieser Zahlungsseite noch nicht unterstützt.',
  errorMethodUnavailable: 'Für diesen Shop ist keine Zahlungsart verfügbar.',
  errorPaymentRefused: 'Diese Zahlung ist nicht möglich: {detail}.',
  errorLinkNotFound: 'Diesen Zahlungslink gibt es nicht.',
  errorNotStarted: 'Diese Zahlung wurde noch nicht gestartet. Bitte öffnen Sie den Zahlungslink erneut.',
  errorInternal: 'Bei uns ist ein Fehler aufgetreten. Bitte versuchen Sie es gleich noch einmal.',
  errorCode: 'Fehlercode',
  linkPaidTitle: 'Bereits bezahlt',
  linkPaidText: 'Dieser Zahlungslink wurde bereits bezahlt. Vielen Dank.',
  footer: 'Sichere Zahlung über Gatehouse',
};

const spanish: Catalog = {
  documentTitle: 'Pago',
  testMode: 'Modo de prueba: no se mueve dinero real.',
  paymentTo: 'Pago a {merchant}',
  amount: 'Importe',
  description: 'Descripción',
  order: 'Pedido',
  chooseMethod: 'Elija un método de pago',
  methodPaypal: 'PayPal',
  methodPaypalHint: 'Pague con su cuenta de PayPal. Aprobará el pago en PayPal.',
  payWithPaypal: 'Pagar {amount} con PayPal',
  busy: 'Le llevamos a PayPal…',
  waitingTitle: 'Conectando con PayPal',
  waitingText: 'Espere un momento mientras preparamos su pago en PayPal. Esta página se actualiza sola.',
  waitingSlow: 'Esto tarda más de lo habitual. Mantenga esta página abierta.',
  waitingStalled: 'No hemos podido contactar con PayPal. Vuelva a intentarlo en unos minutos.',
  refreshNow: 'Comprobar de nuevo',
  approveTitle: 'Apruebe su pago en PayPal',
  approveText: 'Su pago está esperando su aprobación en PayPal.',
  continueToPaypal: 'Continuar a PayPal',
  pendingTitle: 'Su pago se está procesando',
  pendingText: 'PayPal está confirmando su pago. Esta página se actualiza sola. También puede cerrarla: la tienda recibirá el resultado.',
  pendingStalled: 'La confirmación tarda más de lo habitual. Puede cerrar esta página: la tienda recibirá el resultado.',
  successTitle: 'Pago realizado',
  successText: 'Gracias. Hemos recibido su pago de {amount}.',
  declineTitle: 'Pago no completado',
  declineCancelled: 'Ha cancelado el pago en PayPal. No se ha cobrado nada.',
  declineDeclined: 'PayPal ha rechazado el pago. No se ha cobrado nada.',
  declineExpired: 'El pago no se completó a tiempo. No se ha cobrado nada.',
  declineOther: 'No se pudo completar el pago. No se ha cobrado nada.',
  returnToShop: 'Volver a la tienda',
  closeWindow: 'Ya puede cerrar esta ventana.',
  tryAgain: 'Intentar de nuevo',
  errorTitle: 'No se puede abrir este pago',
  errorMissing: 'El enlace de pago está incompleto. Falta: {names}.',
  errorInvalid: 'El enlace de pago contiene un valor no válido ({detail}).',
  errorSignature: 'El enlace de pago se ha modificado o no está firmado correctamente. Vuelva a la tienda e inicie el pago de nuevo.',
  errorProject: 'No se conoce la tienda a la que pertenece este enlace de pago.',
  errorExpired: 'Este enlace de pago ha caducado. Vuelva a la tienda e inicie el pago de nuevo.',
  errorConflict: 'Este número de pedido ya se usó para otro pago. Vuelva a la tienda y empiece de nuevo.',
  errorRecurringUnsupported: 'Esta página de pago todavía no permite guardar PayPal para pagos futuros (parámetro "recurring").',
  errorMethodUnavailable: 'No hay ningún método de pago disponible para esta tienda.',
  errorPaymentRefused: 'No se puede realizar este pago: {detail}.',
  errorLinkNotFound: 'Este enlace de pago no existe.',
  errorNotStarted: 'Este pago no se ha iniciado. Abra de nuevo el enlace de pago.',
  errorInternal: 'Algo ha fallado por nuestra parte. Vuelva a intentarlo en un momento.',
  errorCode: 'Código de error',
  linkPaidTitle: 'Ya pagado',
  linkPaidText: 'Este enlace de pago ya se ha pagado. Gracias.',
  footer: 'Pago seguro con Gatehouse',
};

export const languages = { en: english, de: german, es: spanish } as const satisfies Record<string, Catalog>;
export type Language = keyof typeof languages;

/** BCP 47 locale used to format amounts in each language. */
export const localeOf: Readonly<Record<Language, string>> = { en: 'en-US', de: 'de-DE', es: 'es-ES' };

/**
 * The page language for a `language_code` parameter: its primary subtag when
 * we have it ("de", "DE", "de-AT" give German), English otherwise. An unknown
 * language is never an error: the customer still gets a page they can use.
 */
export function languageFor(languageCode: string | undefined): Language {
  const primary = (languageCode ?? '').trim().toLowerCase().split(/[-_]/)[0] ?? '';
  return Object.hasOwn(languages, primary) ? (primary as Language) : 'en';
}

export function text(language: Language, key: MessageKey, values: Readonly<Record<string, string>> = {}): string {
  const template: string = languages[language][key];
  return template.replace(/\{(\w+)\}/g, (placeholder, name: string) => values[name] ?? placeholder);
}
